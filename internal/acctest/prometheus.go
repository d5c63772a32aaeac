// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// Prometheus is a real Prometheus server (Debian's package) running as a
// child process of the test on a loopback port, with its data in a
// temporary directory. Its targets come from file_sd JSON files, one per
// job, that the test writes (SetTargets); Prometheus rereads them.
type Prometheus struct {
	URL string
	dir string
}

// RulesPath is the stack example's alerting rules.
func RulesPath() string {
	return filepath.Join(RepoRoot(), "examples", "foobar-stack", "monitoring", "alerts.yml")
}

var forRE = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+$`)

// StartPrometheus starts Prometheus scraping every interval, evaluating the
// stack's alerting rules with every `for:` shortened to forDur (so that a
// live failure fires within seconds), for the given jobs. It fails the test
// when the prometheus binary is missing: tools/deps.sh installs it.
func StartPrometheus(t testing.TB, interval, forDur time.Duration, jobs ...string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (tools/deps.sh installs Debian's package): %v", err)
	}
	dir := t.TempDir()
	rules, err := os.ReadFile(RulesPath())
	if err != nil {
		t.Fatal(err)
	}
	rules = forRE.ReplaceAll(rules, []byte("${1}"+forDur.String()))
	if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\nrule_files:\n  - alerts.yml\nscrape_configs:\n",
		interval, interval, interval)
	for _, j := range jobs {
		fmt.Fprintf(&cfg, "  - job_name: %s\n    file_sd_configs:\n      - files: [%q]\n        refresh_interval: %s\n", j, filepath.Join(dir, j+".json"), interval)
		if err := os.WriteFile(filepath.Join(dir, j+".json"), []byte("[]"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return runPrometheus(t, bin, dir)
}

var intervalRE = regexp.MustCompile(`(?m)^(\s+(?:scrape|evaluation)_interval:\s*)\S+$`)

// StartShippedPrometheus starts Prometheus with the stack example's own
// monitoring/prometheus.yml and alerts.yml (as that file's comment installs
// them), the intervals shortened to interval, and targets (the stack's
// scrape_targets output) as its foobar-targets.json.
func StartShippedPrometheus(t testing.TB, interval time.Duration, targets []byte) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (tools/deps.sh installs Debian's package): %v", err)
	}
	dir := t.TempDir()
	src := filepath.Dir(RulesPath())
	cfg, err := os.ReadFile(filepath.Join(src, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = intervalRE.ReplaceAll(cfg, []byte("${1}"+interval.String()))
	rules, err := os.ReadFile(RulesPath())
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"prometheus.yml": cfg, "foobar-alerts.yml": rules, "foobar-targets.json": targets} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return runPrometheus(t, bin, dir)
}

// runPrometheus runs bin on dir's prometheus.yml until the test ends.
func runPrometheus(t testing.TB, bin, dir string) *Prometheus {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-lifecycle")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{URL: "http://" + addr, dir: dir}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "prometheus.log")); err == nil {
				t.Logf("prometheus log (tail):\n%s", tail(string(b), 3000))
			}
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			_ = r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not become ready at %s: %v", p.URL, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// FileSDGroup is one entry of a file_sd JSON file.
type FileSDGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// SetTargets writes job's file_sd file (the JSON a stack output gives).
func (p *Prometheus) SetTargets(t testing.TB, job string, groups []FileSDGroup) {
	t.Helper()
	b, err := json.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(p.dir, job+".json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, job+".json")); err != nil {
		t.Fatal(err)
	}
}

// PromSample is one element of an instant query's vector.
type PromSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Query runs an instant query.
func (p *Prometheus) Query(q string) ([]PromSample, error) {
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []PromSample `json:"result"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/query?query="+url.QueryEscape(q), &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	return body.Data.Result, nil
}

// Alert is one alert of /api/v1/alerts.
type Alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// Alerts are the pending and firing alerts.
func (p *Prometheus) Alerts() ([]Alert, error) {
	var body struct {
		Data struct {
			Alerts []Alert `json:"alerts"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/alerts", &body); err != nil {
		return nil, err
	}
	return body.Data.Alerts, nil
}

func (p *Prometheus) get(path string, v any) error {
	c := http.Client{Timeout: 10 * time.Second}
	r, err := c.Get(p.URL + path)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	return json.NewDecoder(r.Body).Decode(v)
}

// WaitAllUp waits until Prometheus scrapes exactly want targets and every
// one answers (up == 1); it returns the last `up` series for the report.
func (p *Prometheus) WaitAllUp(want int, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	var last string
	for {
		res, err := p.Query("up")
		if err == nil {
			var lines []string
			ok := len(res) == want
			for _, s := range res {
				lines = append(lines, fmt.Sprintf("up{job=%q,instance=%q} %v", s.Metric["job"], s.Metric["instance"], s.Value[1]))
				if s.Value[1] != "1" {
					ok = false
				}
			}
			sort.Strings(lines)
			last = strings.Join(lines, "\n")
			if ok {
				return last, nil
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("not every one of %d targets is up after %s:\n%s", want, within, last)
		}
		time.Sleep(time.Second)
	}
}

// WaitFiring waits until alert name fires with the given labels (a subset).
func (p *Prometheus) WaitFiring(name string, labels map[string]string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		as, err := p.Alerts()
		var seen []string
		if err == nil {
			for _, a := range as {
				seen = append(seen, fmt.Sprintf("%s %v %s", a.Labels["alertname"], a.Labels, a.State))
				if a.Labels["alertname"] != name || a.State != "firing" {
					continue
				}
				match := true
				for k, v := range labels {
					if a.Labels[k] != v {
						match = false
					}
				}
				if match {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alert %s%v did not fire within %s (alerts: %v, err %w)", name, labels, within, seen, err)
		}
		time.Sleep(time.Second)
	}
}

// PromtoolRules runs `promtool check rules` and `promtool test rules` on the
// stack example's rules and their unit tests.
func PromtoolRules(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (tools/deps.sh installs Debian's prometheus package): %v", err)
	}
	dir := filepath.Dir(RulesPath())
	var out strings.Builder
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		out.Write(b)
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	return out.String()
}
