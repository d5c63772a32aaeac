#!/usr/bin/env bash
# Body of `make bench`: measures the load balancer on the lab (requests/s
# and p99 through lb1 versus straight to web1, with the rendered defaults
# and with Debian's stock haproxy.cfg; apply time of a no-op change versus a
# real one). See BenchmarkLoadBalancer in
# internal/provider/resource_load_balancer_bench_test.go. Needs the lab
# (make lab-up, or LAB_NAME set to a running lab). Extra arguments go to
# go test (for example -v).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -count=1 -run '^$' -bench '^BenchmarkLoadBalancer$' -benchtime 1x -timeout 10m ./internal/provider "$@"
