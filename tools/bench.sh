#!/usr/bin/env bash
# Body of `make bench`: benchmarks against the lab, each reporting ratios to a
# baseline measured in the same run (never asserted in a test).
#
#  - BenchmarkLoadBalancer: requests/s and p99 through lb1 versus straight to
#    web1, with the rendered defaults and with Debian's stock haproxy.cfg; the
#    apply time of a no-op change versus a real one.
#  - BenchmarkAccMySQLCluster: time to create a primary and two replicas, a
#    no-op plan, and seeding throughput of a replica joining a ~100 MB primary
#    versus a plain dump | load pipe between the same hosts.
#
# Needs the lab (make lab-up, or LAB_NAME set to a running lab). Extra
# arguments go to go test (for example -bench LoadBalancer to run one).
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_ACC=1
TF_ACC_TERRAFORM_PATH=$(tools/terraform.sh)
export TF_ACC_TERRAFORM_PATH
exec go test -count=1 -run '^$' -bench '^Benchmark(LoadBalancer|AccMySQLCluster)$' -benchtime 1x -timeout 30m ./internal/provider "$@"
