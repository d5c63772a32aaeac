// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// BenchmarkLoadBalancer is a measurement, not a test (make bench, or
// tools/bench.sh): in one run, on the lab, it compares
//
//   - requests/s and p99 latency straight to web1, through lb1 with the
//     configuration this resource renders (its defaults), and through lb1
//     with Debian's stock haproxy.cfg plus the smallest frontend/backend
//     that serves the same page; lb1 has web1 as its only server, so the
//     ratios are the cost of the load balancer itself;
//   - the time of an apply that changes nothing (one probe, no upload, no
//     reload) and of one that changes a server's weight (upload, haproxy -c,
//     swap, reload, verification), through the resource's own apply path
//     (without Terraform's own overhead).
//
// Each traffic scenario runs in three rounds, interleaved, with a bounded
// Go load generator (keep-alive, 4 workers, 3 s). The machine that runs
// the lab also runs the generator, so the absolute numbers say little; the
// ratios are the result. Run it with -benchtime 1x.
func BenchmarkLoadBalancer(b *testing.B) {
	inv := acctest.Lab(b)
	lb := prepareLB(b, inv.Host(b, "lb1"))
	web1 := inv.Host(b, "web1")
	pool := ssh.NewPool()
	b.Cleanup(func() { _ = pool.Close() })
	r := &loadBalancerResource{data: &providerData{pool: pool, defaults: sshDefaults{
		Port: 22, User: inv.User, PrivateKeyFile: inv.PrivateKeyFile, KnownHostsFile: inv.KnownHostsFile,
		ConnectTimeout: 10 * time.Second,
	}}}
	ctx := context.Background()
	model := benchModel(lb.Address, web1.Address)
	applyOnce := func(weight int64) time.Duration {
		m := model
		m.Backends = []lbBackendModel{model.Backends[0]}
		m.Backends[0].Servers = []lbServerModel{model.Backends[0].Servers[0]}
		m.Backends[0].Servers[0].Weight = types.Int64Value(weight)
		var diags diag.Diagnostics
		start := time.Now()
		r.deploy(ctx, &m, m, nil, &diags)
		d := time.Since(start)
		if diags.HasError() {
			b.Fatalf("apply: %v", diags)
		}
		return d
	}

	b.ResetTimer()
	for range b.N {
		first := applyOnce(1)
		var noop, change []time.Duration
		for range 5 {
			noop = append(noop, applyOnce(1))
		}
		for i := range 5 {
			change = append(change, applyOnce(int64(2+i%2)))
		}
		applyOnce(1)

		c := acctest.HTTPClient(acctest.ClientOptions{KeepAlive: true})
		run := func(url string) acctest.LoadResult {
			res, err := acctest.RunLoad(c, url, acctest.LoadOptions{Workers: 4, MaxDuration: 3 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			if res.Failures != 0 {
				b.Fatalf("%s: %d failed requests: %v", url, res.Failures, res.Errors)
			}
			c.CloseIdleConnections()
			return res
		}
		stockCfg := lb.stock + fmt.Sprintf("\nfrontend bench\n\tbind :80\n\tdefault_backend bench\n\nbackend bench\n\tserver web1 %s:80\n", web1.Address)
		results := map[string][]acctest.LoadResult{}
		for round := range 3 {
			results["direct"] = append(results["direct"], run("http://"+web1.Address+"/"))
			if round > 0 {
				applyOnce(1) // back from the stock file
			}
			results["rendered"] = append(results["rendered"], run("http://"+lb.Address+"/"))
			lb.ExecInput(b, stockCfg, "sh", "-c", "cat > /etc/haproxy/haproxy.cfg && systemctl reload haproxy && sleep 1")
			results["stock"] = append(results["stock"], run("http://"+lb.Address+"/"))
		}
		applyOnce(1)

		rps := func(k string) float64 {
			s := 0.0
			for _, r := range results[k] {
				s += r.RPS()
			}
			return s / float64(len(results[k]))
		}
		p99 := func(k string) time.Duration {
			var s time.Duration
			for _, r := range results[k] {
				s += r.Quantile(0.99)
			}
			return s / time.Duration(len(results[k]))
		}
		med := func(d []time.Duration) time.Duration {
			s := append([]time.Duration(nil), d...)
			sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
			return s[len(s)/2]
		}
		// testing keeps only the first lines of a benchmark's log: the
		// ratios come first.
		b.Logf("ratios: rps rendered/direct %.2f, stock/direct %.2f, rendered/stock %.2f; p99 rendered/direct %.2f, stock/direct %.2f, rendered/stock %.2f; apply no-op/real %.2f",
			rps("rendered")/rps("direct"), rps("stock")/rps("direct"), rps("rendered")/rps("stock"),
			float64(p99("rendered"))/float64(p99("direct")), float64(p99("stock"))/float64(p99("direct")), float64(p99("rendered"))/float64(p99("stock")),
			float64(med(noop))/float64(med(change)))
		b.Logf("apply: first %s, no-op median %s %v, real change median %s %v", first.Round(time.Millisecond), med(noop).Round(time.Millisecond), noop, med(change).Round(time.Millisecond), change)
		for _, k := range []string{"direct", "rendered", "stock"} {
			var parts []string
			for _, r := range results[k] {
				parts = append(parts, fmt.Sprintf("%.0f req/s p99 %s", r.RPS(), r.Quantile(0.99).Round(10*time.Microsecond)))
			}
			b.Logf("%-8s rounds: %s", k, strings.Join(parts, "; "))
		}
		b.ReportMetric(rps("direct"), "direct-req/s")
		b.ReportMetric(rps("rendered"), "rendered-req/s")
		b.ReportMetric(rps("stock"), "stock-req/s")
		b.ReportMetric(float64(p99("direct").Microseconds()), "direct-p99-µs")
		b.ReportMetric(float64(p99("rendered").Microseconds()), "rendered-p99-µs")
		b.ReportMetric(float64(p99("stock").Microseconds()), "stock-p99-µs")
		b.ReportMetric(float64(med(noop).Milliseconds()), "apply-noop-ms")
		b.ReportMetric(float64(med(change).Milliseconds()), "apply-change-ms")
	}
	b.StopTimer()

	// Give the host back as it was.
	var diags diag.Diagnostics
	m := model
	r.deleteModel(ctx, &m, &diags)
	if diags.HasError() {
		b.Fatalf("delete: %v", diags)
	}
	if err := lb.checkRestored(nil); err != nil {
		b.Fatal(err)
	}
}

// benchModel is lb1 in front of web1 with the rendered defaults: one
// frontend on port 80, round robin, TCP checks.
func benchModel(lbAddress, web1 string) lbModel {
	return lbModel{
		SSH:     hostConnection(lbAddress),
		ID:      types.StringNull(),
		Install: types.BoolValue(true), MaxConn: types.Int64Null(), NbThread: types.Int64Null(), HardStopAfter: types.StringNull(),
		RenderedConfig: types.StringUnknown(), ConfigSHA256: types.StringUnknown(), HAProxyVersion: types.StringUnknown(),
		Frontends: []lbFrontendModel{{
			Name: types.StringValue("www"), BindAddress: types.StringNull(), Port: types.Int64Value(80), MaxConn: types.Int64Null(),
			RedirectToHTTPS: types.BoolValue(false), HSTSMaxAge: types.Int64Null(), ForwardFor: types.BoolValue(true), ForwardedProto: types.BoolValue(true),
			DefaultBackend: types.StringValue("web"),
		}},
		Backends: []lbBackendModel{{
			Name: types.StringValue("web"), Balance: types.StringNull(), StickyCookie: types.StringNull(),
			Servers: []lbServerModel{{
				Name: types.StringValue("web1"), Address: types.StringValue(web1), Port: types.Int64Value(80), Weight: types.Int64Null(),
				Backup: types.BoolValue(false), MaxConn: types.Int64Null(), Disabled: types.BoolValue(false),
			}},
		}},
	}
}
