#!/usr/bin/env bash
# Body of `make bench`: benchmarks against the lab, each reporting ratios to a
# baseline measured in the same run (never asserted in a test). About 15-25
# minutes on a 2-core machine.
#
#  - BenchmarkAccConnect (internal/ssh): one new provider connection (TCP,
#    key exchange, host key check, auth, sudo check) versus OpenSSH's
#    `ssh -o BatchMode=yes host true` to the same host, interleaved.
#  - BenchmarkAccStackPlan: a no-op `terraform plan` of examples/foobar-stack
#    versus the same plan with -refresh=false, interleaved.
#  - BenchmarkAccScale: 2, 8 and 32 foobar_web_server sites on web1 and web2
#    behind one load balancer: no-op plans, the apply of a change to all 32
#    versus to 2, a one-attribute change to one web server versus its no-op
#    apply, and the provider process's peak RSS.
#  - BenchmarkAccStaticTree: re-applying an unchanged 50 MB static tree sends
#    no file (bytes the host received and time, versus the first apply).
#  - BenchmarkLoadBalancer: requests/s and p99 through lb1 versus straight to
#    web1, with the rendered defaults and with Debian's stock haproxy.cfg; the
#    apply time of a no-op change versus a real one.
#  - BenchmarkAccMySQLCluster: time to create a primary and two replicas, a
#    no-op plan, and seeding throughput of a replica joining a ~100 MB primary
#    versus a plain dump | load pipe between the same hosts.
#
# The Terraform benchmarks run the CLI with the provider binary built from
# this checkout (dev_overrides), as a real plugin process.
#
# Needs the lab (make lab-up, or LAB_NAME set to a running lab) with lb1,
# web1, web2, db1, db2 (and db3 for BenchmarkAccMySQLCluster), and the
# OpenSSH client. BENCH selects benchmarks by a regular expression (for
# example BENCH=Scale); FOOBAR_BENCH_ROUNDS sets the rounds of the
# interleaved Terraform plans (default 5), FOOBAR_BENCH_APPLY_ROUNDS those of
# the scale configuration's applies (default 2). Extra arguments go to go
# test.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_ACC=1 CHECKPOINT_DISABLE=1
TF_ACC_TERRAFORM_PATH=$(tools/terraform.sh)
export TF_ACC_TERRAFORM_PATH
command -v ssh >/dev/null || tools/deps.sh
bench=${BENCH:-.}
all='^Benchmark(AccConnect|AccStackPlan|AccScale|AccStaticTree|LoadBalancer|AccMySQLCluster)$'
status=0
for pkg in ./internal/ssh ./internal/provider; do
  # Only the packages that hold a selected benchmark.
  names=$(go test -list "$all" "$pkg" | grep -E "$all" | grep -E -- "$bench" || true)
  [[ -n $names ]] || continue
  re="^($(paste -sd'|' <<<"$names"))\$"
  echo "== $pkg: $(paste -sd' ' <<<"$names")"
  go test -count=1 -p 1 -run '^$' -bench "$re" -benchtime 1x -timeout 60m "$pkg" "$@" || status=$?
done
exit $status
