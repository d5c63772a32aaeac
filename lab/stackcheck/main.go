// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command stackcheck proves that a www.foobar.com stack works, from outside:
// requests through the load balancer alternate between the web servers, a
// static file comes from Nginx and a dynamic request from the application,
// and a record written through the site is read back from the replica. It
// prints one PASS/FAIL line per check and exits 1 if any failed. `make demo`
// runs it; the stack's acceptance test runs the same checks.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

func main() {
	var t acctest.StackTarget
	flag.StringVar(&t.LB, "lb", "", "address of the load balancer")
	flag.StringVar(&t.Domain, "domain", "www.foobar.com", "the site's name (sent to the load balancer)")
	flag.StringVar(&t.Replica, "replica", "", "host:port of the replica the application reads from")
	flag.Parse()
	if t.LB == "" || t.Replica == "" {
		fmt.Fprintln(os.Stderr, "usage: stackcheck -lb ADDRESS -replica HOST:PORT [-domain NAME]")
		os.Exit(2)
	}
	failed := false
	for _, c := range acctest.CheckStack(t) {
		fmt.Println(c)
		failed = failed || !c.OK
	}
	if failed {
		os.Exit(1)
	}
}
