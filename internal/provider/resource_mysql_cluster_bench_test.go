// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// benchT lets terraform-plugin-testing drive a benchmark (it wants a
// Parallel method, which testing.B does not have).
type benchT struct{ *testing.B }

func (benchT) Parallel() {}

const benchDB = "foobar_bench"

// BenchmarkAccMySQLCluster measures, on the lab's MariaDB hosts db1-db3
// (TF_ACC=1, LAB_NAME; run with -run '^$' -bench AccMySQLCluster
// -benchtime 1x):
//
//   - create-s: terraform apply creating a primary and two replicas;
//   - noop-plan-s: terraform plan of the unchanged cluster (refresh
//     included);
//   - seed-MB/s: the provider seeding a replica that joins a ~100 MB
//     primary (dump streamed primary -> replica over the two SSH
//     connections; the provider's own timing of SeedReplica), and
//     join-MB/s for the whole apply that adds it;
//   - pipe-MB/s: a plain `ssh db1 mariadb-dump | ssh db3 mariadb` between
//     the same hosts in the same run, through the same machine;
//   - seed/pipe: the ratio.
//
// Throughputs are dump bytes (measured by the plain pipe) per second.
func BenchmarkAccMySQLCluster(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("TF_ACC is not set: the benchmark runs on the lab")
	}
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		b.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH")
	}
	inv := acctest.Lab(b)
	db1, db2, db3 := inv.Host(b, "db1"), inv.Host(b, "db2"), inv.Host(b, "db3")
	clean := func() {
		for _, h := range []acctest.Host{db1, db2, db3} {
			h.CleanMySQL(b, append(accDatabases, benchDB), accAccounts())
		}
	}
	clean()
	b.Cleanup(clean)
	logFile := filepath.Join(b.TempDir(), "tf.log")
	b.Setenv("TF_ACC_LOG_PATH", logFile)

	body := fmt.Sprintf(`  replication_user                = %q
  replication_password_wo         = var.repl_pw
  replication_password_wo_version = 1
  databases    = [{ name = %q }]
  wait_timeout = "10m"
`, accReplUser, accDB)
	vars := config.Variables{"repl_pw": config.StringVariable("bench-Repl-1")}
	cfg := func(replicas ...acctest.Host) string {
		return "variable \"repl_pw\" {\n  type      = string\n  ephemeral = true\n}\n" + mysqlClusterHCL(inv, db1, replicas, body)
	}
	var start time.Time
	var create, plan, join time.Duration
	var dumpBytes int64
	var pipe time.Duration

	for range b.N {
		tfresource.Test(benchT{b}, tfresource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []tfresource.TestStep{
				{
					PreConfig:       func() { start = time.Now() },
					Config:          cfg(db2, db3),
					ConfigVariables: vars,
					Check: func(*terraform.State) error {
						create = time.Since(start)
						return nil
					},
				},
				{
					PreConfig:       func() { start = time.Now() },
					Config:          cfg(db2, db3),
					ConfigVariables: vars,
					ConfigPlanChecks: tfresource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), planTimer{&start, &plan}},
					},
				},
				{
					// db3 leaves; the primary gets ~100 MB.
					Config:          cfg(db2),
					ConfigVariables: vars,
				},
				{
					PreConfig: func() {
						db1.SQL(b, fmt.Sprintf("CREATE DATABASE %s; USE %s;"+
							"CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(1000)) ENGINE=InnoDB;"+
							"INSERT INTO t1 SELECT seq, REPEAT(MD5(seq), 30) FROM seq_1_to_50000;"+
							"CREATE TABLE t2 LIKE t1; INSERT INTO t2 SELECT id + 50000, REPEAT(SHA1(id), 24) FROM t1;", benchDB, benchDB))
						// The plain pipe, into db3 (not a member now), then
						// db3 is emptied again for the provider.
						var err error
						dumpBytes, pipe, err = plainPipe(inv, db1, db3, benchDB)
						if err != nil {
							b.Fatal(err)
						}
						db3.SQL(b, "SET SESSION sql_log_bin = 0; DROP DATABASE "+benchDB+"; DROP DATABASE IF EXISTS "+accDB)
						start = time.Now()
					},
					Config:          cfg(db2, db3),
					ConfigVariables: vars,
					Check: func(*terraform.State) error {
						join = time.Since(start)
						return nil
					},
				},
			},
		})
	}
	seed, err := seedSeconds(logFile, db3.Address)
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(dumpBytes) / 1e6
	b.ReportMetric(create.Seconds(), "create-s")
	b.ReportMetric(plan.Seconds(), "noop-plan-s")
	b.ReportMetric(mb, "dump-MB")
	b.ReportMetric(mb/seed, "seed-MB/s")
	b.ReportMetric(mb/join.Seconds(), "join-MB/s")
	b.ReportMetric(mb/pipe.Seconds(), "pipe-MB/s")
	b.ReportMetric(pipe.Seconds()/seed, "seed/pipe")
	b.Logf("create %s, no-op plan %s, dump %.1f MB: provider seed %.2fs (%.1f MB/s), whole join apply %s (%.1f MB/s), plain pipe %s (%.1f MB/s)",
		create.Round(time.Millisecond), plan.Round(time.Millisecond), mb, seed, mb/seed, join.Round(time.Millisecond), mb/join.Seconds(), pipe.Round(time.Millisecond), mb/pipe.Seconds())
}

// planTimer records the time since start when the plan is ready.
type planTimer struct {
	start *time.Time
	out   *time.Duration
}

func (p planTimer) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	*p.out = time.Since(*p.start)
}

type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// plainPipe runs `ssh from mariadb-dump --single-transaction --databases db
// | ssh to mariadb` with OpenSSH and the lab's key, relaying (and counting)
// the bytes through this process as a shell pipe would.
func plainPipe(inv *acctest.Inventory, from, to acctest.Host, db string) (int64, time.Duration, error) {
	sshArgs := func(h acctest.Host, remote ...string) []string {
		return append([]string{"-i", inv.PrivateKeyFile, "-o", "UserKnownHostsFile=" + inv.KnownHostsFile, "-o", "StrictHostKeyChecking=yes",
			"-o", "BatchMode=yes", inv.User + "@" + h.Address, "sudo", "-n"}, remote...)
	}
	dump := exec.Command("ssh", sshArgs(from, "mariadb-dump", "--single-transaction", "--databases", db)...)
	load := exec.Command("ssh", sshArgs(to, "mariadb")...)
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	dump.Stdout = cw
	load.Stdin = pr
	var dumpErr, loadErr strings.Builder
	dump.Stderr, load.Stderr = &dumpErr, &loadErr
	start := time.Now()
	if err := load.Start(); err != nil {
		return 0, 0, err
	}
	if err := dump.Run(); err != nil {
		pw.CloseWithError(err)
		_ = load.Wait()
		return 0, 0, fmt.Errorf("dump: %w: %s", err, dumpErr.String())
	}
	pw.Close()
	if err := load.Wait(); err != nil {
		return 0, 0, fmt.Errorf("load: %w: %s", err, loadErr.String())
	}
	return cw.n.Load(), time.Since(start), nil
}

// seedSeconds finds the provider's own timing of seeding host in the log.
func seedSeconds(logFile, host string) (float64, error) {
	b, err := os.ReadFile(logFile)
	if err != nil {
		return 0, err
	}
	secs := regexp.MustCompile(`\bseconds=([0-9.e+-]+)`)
	hostRE := regexp.MustCompile(`\bhost=` + regexp.QuoteMeta(host) + `\b`)
	found := -1.0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "seeded replica") || !hostRE.MatchString(line) {
			continue
		}
		if m := secs.FindStringSubmatch(line); m != nil {
			if found, err = strconv.ParseFloat(m[1], 64); err != nil {
				return 0, err
			}
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("no \"seeded replica\" line for %s in %s", host, logFile)
	}
	return found, nil
}
