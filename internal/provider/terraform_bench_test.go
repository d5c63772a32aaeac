// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// Benchmarks of the provider as operators feel it: the Terraform CLI
// running the provider binary built from this checkout (dev_overrides) as
// a real plugin process, against the lab (make bench). Every figure is
// reported with its baseline from the same run, as a ratio; nothing is
// asserted about time. What is checked is that each measurement measures
// what it says: a no-op plan must plan nothing (-detailed-exitcode), a
// change must be applied.

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// tfWork is a Terraform working directory that runs the provider binary
// built by devOverrideCLI.
type tfWork struct {
	b   *testing.B
	dir string
	cli string
	env []string
}

func newTFWork(b *testing.B, cli, name string, files map[string]string) *tfWork {
	b.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		b.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (tools/bench.sh does)")
	}
	w := &tfWork{b: b, dir: filepath.Join(b.TempDir(), name), cli: cli}
	acctest.WriteTree(b, w.dir, files)
	return w
}

// tfOutcome is one run of the CLI: its wall time, exit status, output, and the
// peak RSS of the provider's plugin process (VmHWM, in KiB; 0 when no
// provider process was seen).
type tfOutcome struct {
	took   time.Duration
	status int
	out    string
	rssKiB int64
}

// run runs terraform with args and returns its outcome; statuses other
// than those in ok fail the benchmark.
func (w *tfWork) run(ok []int, args ...string) tfOutcome {
	w.b.Helper()
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
	cmd.Dir = w.dir
	cmd.Env = append(append(os.Environ(), w.env...), "TF_CLI_CONFIG_FILE="+w.cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "NO_COLOR=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		w.b.Fatalf("terraform %s: %v", args[0], err)
	}
	// Only applies report the provider's memory: the watcher costs CPU
	// that would otherwise slow the plans being timed on a 2-core machine.
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	if args[0] == "apply" {
		go func() { peak <- watchProviderRSS(cmd.Process.Pid, stop) }()
	} else {
		peak <- 0
	}
	err := cmd.Wait()
	r := tfOutcome{took: time.Since(start), out: out.String()}
	close(stop)
	r.rssKiB = <-peak
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.status = ee.ExitCode()
	default:
		w.b.Fatalf("terraform %s: %v", args[0], err)
	}
	for _, s := range ok {
		if s == r.status {
			return r
		}
	}
	w.b.Fatalf("terraform %s exited with %d:\n%s", strings.Join(args, " "), r.status, r.out)
	return r
}

// noopPlan runs a plan that must plan nothing.
func (w *tfWork) noopPlan(extra ...string) time.Duration {
	w.b.Helper()
	r := w.run([]int{0, 2}, append([]string{"plan", "-no-color", "-input=false", "-lock=false", "-detailed-exitcode"}, extra...)...)
	if r.status != 0 {
		w.b.Fatalf("a no-op plan planned changes:\n%s", r.out)
	}
	return r.took
}

// apply applies with the given extra arguments (variables, -target); it
// must change something when changes is true and nothing otherwise.
func (w *tfWork) apply(changes bool, extra ...string) tfOutcome {
	w.b.Helper()
	r := w.run([]int{0}, append([]string{"apply", "-no-color", "-input=false", "-auto-approve"}, extra...)...)
	if changed := !strings.Contains(r.out, "No changes.") && !strings.Contains(r.out, " 0 added, 0 changed, 0 destroyed"); changed != changes {
		w.b.Fatalf("apply %v: expected changes=%v:\n%s", extra, changes, r.out)
	}
	return r
}

// destroyOnCleanup destroys what the working directory created when the
// benchmark ends (also when it failed).
func (w *tfWork) destroyOnCleanup(extra ...string) {
	w.b.Cleanup(func() {
		cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append([]string{"destroy", "-no-color", "-input=false", "-auto-approve"}, extra...)...)
		cmd.Dir = w.dir
		cmd.Env = append(append(os.Environ(), w.env...), "TF_CLI_CONFIG_FILE="+w.cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "NO_COLOR=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			w.b.Errorf("terraform destroy in %s: %v\n%s", w.dir, err, out)
		}
	})
}

// watchProviderRSS samples, until stop, the provider plugin processes that
// the terraform process tfPID starts, and returns the highest VmHWM (the
// kernel's own peak resident set size of the process) seen.
func watchProviderRSS(tfPID int, stop <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		for _, pid := range childrenNamed(tfPID, "terraform-provi") {
			if v := vmHWM(pid); v > peak {
				peak = v
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// childrenNamed lists the processes whose parent is ppid and whose comm
// starts with name (comm is cut at 15 bytes). It reads the children files
// of ppid's threads (/proc/PID/task/TID/children), a few small files,
// rather than every process's stat: a scan of /proc every 20 ms with the
// lab's hosts running took about 0.4 of a core.
func childrenNamed(ppid int, name string) []int {
	if tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", ppid)); err == nil && len(tasks) > 0 {
		var out []int
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, field := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(field)
				if err != nil {
					continue
				}
				if comm, err := os.ReadFile(filepath.Join("/proc", field, "comm")); err == nil && strings.HasPrefix(strings.TrimSpace(string(comm)), name) {
					out = append(out, pid)
				}
			}
		}
		return out
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(ppid) || !strings.HasPrefix(s[open+1:closing], name) {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// vmHWM is /proc/<pid>/status's VmHWM in KiB (0 when unreadable).
func vmHWM(pid int) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// interleave runs each function rounds times, alternating, and returns
// their timings in the same order.
func interleave(rounds int, fns ...func() time.Duration) []acctest.Sample {
	times := make([][]time.Duration, len(fns))
	for range rounds {
		for i, f := range fns {
			times[i] = append(times[i], f())
		}
	}
	out := make([]acctest.Sample, len(fns))
	for i := range fns {
		out[i] = acctest.NewSample(times[i])
	}
	return out
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// benchRounds is the number of interleaved rounds of each plan measurement
// (FOOBAR_BENCH_ROUNDS, default 5).
func benchRounds(b *testing.B) int { return envRounds(b, "FOOBAR_BENCH_ROUNDS", 5) }

// applyRounds is the number of rounds of the applies of the scale
// configuration (FOOBAR_BENCH_APPLY_ROUNDS, default 2): a change to 32
// sites takes minutes on a busy 2-core machine.
func applyRounds(b *testing.B) int { return envRounds(b, "FOOBAR_BENCH_APPLY_ROUNDS", 2) }

func envRounds(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkAccStackPlan: a no-op `terraform plan` of examples/foobar-stack
// (lb1, web1, web2, db1, db2) against the same plan with -refresh=false
// (Terraform's own cost: the configuration, the state, the provider's
// start and schema), in interleaved rounds. The difference is what reading
// the five hosts costs.
func BenchmarkAccStackPlan(b *testing.B) {
	inv := acctest.Lab(b)
	lb1, web1, web2, db1, db2 := inv.Host(b, "lb1"), inv.Host(b, "web1"), inv.Host(b, "web2"), inv.Host(b, "db1"), inv.Host(b, "db2")
	// The stack test's variables (TLS certificates, passwords, sources),
	// with one load balancer: the five hosts the figures have always used.
	st := newStackExample(b, inv, acctest.Hosts{LB: lb1, Web1: web1, Web2: web2, DBPrimary: db1, Replica: db2}, buildStackApp(b))
	cli := devOverrideCLI(b, b.TempDir())
	files := map[string]string{}
	for _, f := range []string{"main.tf", "outputs.tf", "variables.tf", "versions.tf"} {
		body, err := os.ReadFile(filepath.Join(st.dir, f))
		if err != nil {
			b.Fatal(err)
		}
		files[f] = string(body)
	}
	vars, err := json.Marshal(st.vars)
	if err != nil {
		b.Fatal(err)
	}
	files["lab.auto.tfvars.json"] = string(vars)
	w := newTFWork(b, cli, "stack", files)
	rounds := benchRounds(b)

	b.ResetTimer()
	for range b.N {
		first := w.apply(true)
		w.destroyOnCleanup()
		w.noopPlan() // warm-up: caches of the machine and the hosts
		s := interleave(rounds,
			func() time.Duration { return w.noopPlan() },
			func() time.Duration { return w.noopPlan("-refresh=false") },
		)
		acctest.Report("stack (examples/foobar-stack on lb1 web1 web2 db1 db2), %d interleaved rounds; first apply %s:", rounds, first.took.Round(time.Millisecond))
		acctest.Report("  ratio no-op plan / plan -refresh=false: %.2f (goal <= 1.5)", s[0].Ratio(s[1]))
		acctest.Report("  no-op plan:             %s  runs %s", s[0], s[0].Runs())
		acctest.Report("  plan -refresh=false:    %s  runs %s", s[1], s[1].Runs())
		b.ReportMetric(s[0].Ratio(s[1]), "plan/plan-norefresh")
	}
}

// scaleHCL is the scale configuration: var.sites foobar_web_server sites
// spread over the web hosts (one name and server name each, all on port
// 80) and one load balancer whose backend lists them all. Each site sends
// a response header whose value is var.tag, or var.tags[index] when set,
// so that a variable changes one attribute of some or all sites.
func scaleHCL(inv *acctest.Inventory, artifact string, lb acctest.Host, webs ...acctest.Host) string {
	var addrs []string
	for _, h := range webs {
		addrs = append(addrs, strconv.Quote(h.Address))
	}
	return `terraform {
  required_providers {
    foobar = { source = "foobar/foobar" }
  }
}
` + inv.ProviderHCL() + fmt.Sprintf(`
variable "sites" {
  type = number
}
variable "tag" {
  type    = string
  default = "t0"
}
variable "tags" {
  type    = map(string)
  default = {}
}
locals {
  web_hosts = [%s]
}

resource "foobar_web_server" "site" {
  count        = var.sites
  ssh          = { host = local.web_hosts[count.index %% length(local.web_hosts)] }
  name         = format("bench%%02d", count.index)
  server_names = [format("s%%02d.bench.test", count.index)]
  listen_port  = 80
  document_root = format("/srv/www/bench%%02d", count.index)
  response_headers = { "X-Bench" = lookup(var.tags, tostring(count.index), var.tag) }
  app = {
    artifact_source      = %q
    command              = [format("/opt/foobar/bench%%02d/bin/testapp", count.index), "-listen", format("127.0.0.1:%%d", 8100 + count.index)]
    port                 = 8100 + count.index
    user                 = format("bench%%02d", count.index)
    health_check_timeout = "10s"
  }
}

resource "foobar_load_balancer" "lb" {
  ssh = { host = %q }
  frontends = [{ name = "www", port = 80, default_backend = "sites" }]
  backends = [{
    name    = "sites"
    balance = "roundrobin"
    servers = [for s in foobar_web_server.site : { name = s.name, address = s.ssh.host, port = s.listen_port }]
  }]
}
`, strings.Join(addrs, ", "), artifact, lb.Address)
}

// BenchmarkAccScale: the scale configuration (scaleHCL) with 2, 8 and 32
// sites on web1 and web2 and one load balancer on lb1:
//
//   - no-op plan with 2, 8 and 32 sites, each interleaved with the same
//     plan with -refresh=false; the goal is plan(32) <= 2x plan(2);
//   - apply of a one-attribute change to all 32 sites against a change to
//     2 (in the 2-site configuration, and to 2 of the 32); goal <= 4x;
//   - a one-attribute change to one web server (-target, no artifact)
//     against that resource's no-op apply (the same command with nothing
//     to change: its refresh and plan); goal <= 2x;
//   - the provider process's peak RSS (VmHWM) during the applies of the
//     change to all 32 sites, and during the change to 2 in the 2-site
//     configuration.
func BenchmarkAccScale(b *testing.B) {
	inv := acctest.Lab(b)
	lb1, web1, web2 := inv.Host(b, "lb1"), inv.Host(b, "web1"), inv.Host(b, "web2")
	dir := b.TempDir()
	cli := devOverrideCLI(b, dir)
	app := acctest.BuildTestApp(b, filepath.Join(dir, "app"), "testapp", "bench", true)
	w := newTFWork(b, cli, "scale", map[string]string{"main.tf": scaleHCL(inv, app, lb1, web1, web2)})
	rounds := benchRounds(b)
	sites := func(n int) string { return "-var=sites=" + strconv.Itoa(n) }
	tags := func(v string, idx ...int) string {
		var kv []string
		for _, i := range idx {
			kv = append(kv, fmt.Sprintf("%q=%q", strconv.Itoa(i), v))
		}
		return "-var=tags={" + strings.Join(kv, ",") + "}"
	}

	b.ResetTimer()
	for range b.N {
		w.destroyOnCleanup(sites(32))
		plans := map[int][2]acctest.Sample{}
		var change2small, one, noopOne []time.Duration
		var rss2 int64
		for _, n := range []int{2, 8, 32} {
			w.apply(true, sites(n))
			w.noopPlan(sites(n))
			s := interleave(rounds,
				func() time.Duration { return w.noopPlan(sites(n)) },
				func() time.Duration { return w.noopPlan(sites(n), "-refresh=false") },
			)
			plans[n] = [2]acctest.Sample{s[0], s[1]}
			if n != 2 {
				continue
			}
			// In the 2-site configuration: a change to both sites, and a
			// change to one (site 0, -target) against its no-op apply.
			for r := range applyRounds(b) {
				v := "small" + strconv.Itoa(r)
				a := w.apply(true, sites(2), "-var=tag="+v)
				change2small = append(change2small, a.took)
				rss2 = max(rss2, a.rssKiB)
				target := "-target=foobar_web_server.site[0]"
				noopOne = append(noopOne, w.apply(false, sites(2), "-var=tag="+v, target).took)
				one = append(one, w.apply(true, sites(2), "-var=tag="+v, tags("one"+strconv.Itoa(r), 0), target).took)
				w.apply(true, sites(2), "-var=tag="+v) // site 0 back to the tag
			}
		}
		// In the 32-site configuration: change all 32, then 2 of them.
		var all32, two32 []time.Duration
		var rss32 int64
		for r := range applyRounds(b) {
			v := "big" + strconv.Itoa(r)
			a := w.apply(true, sites(32), "-var=tag="+v)
			all32 = append(all32, a.took)
			rss32 = max(rss32, a.rssKiB)
			two32 = append(two32, w.apply(true, sites(32), "-var=tag="+v, tags("two"+strconv.Itoa(r), 0, 1)).took)
		}

		sAll, sTwo, sTwoSmall := acctest.NewSample(all32), acctest.NewSample(two32), acctest.NewSample(change2small)
		sOne, sNoop := acctest.NewSample(one), acctest.NewSample(noopOne)
		acctest.Report("scale (sites on web1 and web2, one load balancer on lb1 listing them all), %d interleaved plan rounds, %d apply rounds:", rounds, applyRounds(b))
		acctest.Report("  ratio no-op plan 32 sites / 2 sites: %.2f (goal <= 2); 8 / 2: %.2f", plans[32][0].Ratio(plans[2][0]), plans[8][0].Ratio(plans[2][0]))
		acctest.Report("  ratio apply of a change to all 32 / to 2 (2-site configuration): %.2f (goal <= 4); / to 2 of the 32: %.2f", sAll.Ratio(sTwoSmall), sAll.Ratio(sTwo))
		acctest.Report("  ratio one-attribute change to one web server / its no-op apply: %.2f (goal <= 2)", sOne.Ratio(sNoop))
		acctest.Report("  provider peak RSS (VmHWM): %s during the applies of the change to 32 sites, %s during those of the change to 2 sites (2-site configuration)", mib(rss32), mib(rss2))
		for _, n := range []int{2, 8, 32} {
			acctest.Report("  no-op plan, %2d sites:             %s  runs %s", n, plans[n][0], plans[n][0].Runs())
			acctest.Report("  plan -refresh=false, %2d sites:    %s  runs %s", n, plans[n][1], plans[n][1].Runs())
		}
		acctest.Report("  apply, change to all 32:            %s  runs %s", sAll, sAll.Runs())
		acctest.Report("  apply, change to 2 of 32:           %s  runs %s", sTwo, sTwo.Runs())
		acctest.Report("  apply, change to 2 (2 sites):       %s  runs %s", sTwoSmall, sTwoSmall.Runs())
		acctest.Report("  apply -target one site, change:     %s  runs %s", sOne, sOne.Runs())
		acctest.Report("  apply -target one site, no change:  %s  runs %s", sNoop, sNoop.Runs())
		b.ReportMetric(plans[32][0].Ratio(plans[2][0]), "plan32/plan2")
		b.ReportMetric(sAll.Ratio(sTwoSmall), "apply32/apply2")
		b.ReportMetric(sOne.Ratio(sNoop), "change1/noop1")
		b.ReportMetric(float64(rss32)/1024, "rss32-MiB")
	}
}

// BenchmarkAccStaticTree: a web server publishing a 50 MB static tree
// (200 files of 256 KiB of random bytes) on web1. The first apply sends
// it; an apply that changes another attribute (the tree unchanged) must
// send no file. What the host received is read from its network
// interface's counter (rx_bytes), outside the provider.
func BenchmarkAccStaticTree(b *testing.B) {
	inv := acctest.Lab(b)
	web1 := inv.Host(b, "web1")
	dir := b.TempDir()
	cli := devOverrideCLI(b, dir)
	tree := filepath.Join(dir, "tree")
	const files, size = 200, 256 << 10
	for i := range files {
		buf := make([]byte, size)
		if _, err := rand.Read(buf); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(tree, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("f%03d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	hcl := `terraform {
  required_providers {
    foobar = { source = "foobar/foobar" }
  }
}
variable "tag" {
  type = string
}
` + inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_web_server" "tree" {
  %s
  name          = "benchtree"
  server_names  = ["tree.bench.test"]
  listen_port   = 8081
  document_root = "/srv/www/benchtree"
  source_dir    = %q
  static_locations = [{ url_prefix = "/d00/" }]
  response_headers = { "X-Bench" = var.tag }
  app = {
    artifact_source      = %q
    command              = ["/opt/foobar/benchtree/bin/testapp", "-listen", "127.0.0.1:8199"]
    port                 = 8199
    user                 = "benchtree"
    health_check_timeout = "10s"
  }
}
`, web1.ConnectionHCL(), tree, acctest.BuildTestApp(b, filepath.Join(dir, "app"), "testapp", "bench", true))
	w := newTFWork(b, cli, "tree", map[string]string{"main.tf": hcl})
	rx := func() int64 {
		out := web1.Exec(b, "cat", "/sys/class/net/eth0/statistics/rx_bytes")
		n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			b.Fatalf("rx_bytes of %s: %q", web1.Name, out)
		}
		return n
	}

	b.ResetTimer()
	for range b.N {
		w.destroyOnCleanup("-var=tag=x")
		before := rx()
		first := w.apply(true, "-var=tag=first")
		firstRx := rx() - before
		var again []time.Duration
		var againRx []int64
		for r := range 3 {
			before = rx()
			again = append(again, w.apply(true, "-var=tag=again"+strconv.Itoa(r)).took)
			againRx = append(againRx, rx()-before)
		}
		s := acctest.NewSample(again)
		maxAgain := int64(0)
		for _, n := range againRx {
			maxAgain = max(maxAgain, n)
		}
		acctest.Report("static tree (%d files, %s) on %s:", files, mib(files*size/1024), web1.Name)
		acctest.Report("  ratio bytes received by the host, re-apply (tree unchanged) / first apply: %.4f; time: %.2f",
			float64(maxAgain)/float64(firstRx), float64(s.Median)/float64(first.took))
		acctest.Report("  first apply:    %s, host received %s", first.took.Round(time.Millisecond), mib(firstRx/1024))
		acctest.Report("  re-apply:       %s, host received %v bytes", s, againRx)
		if maxAgain > size {
			b.Errorf("a re-apply of the unchanged tree made the host receive %d bytes, more than one file (%d): files were sent again", maxAgain, size)
		}
		b.ReportMetric(float64(firstRx), "first-rx-bytes")
		b.ReportMetric(float64(maxAgain), "again-rx-bytes")
	}
}
