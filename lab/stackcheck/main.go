// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command stackcheck proves that a www.foobar.com stack works, from outside:
// requests through the load balancer alternate between the web servers, a
// static file comes from Nginx and a dynamic request from the application,
// and a record written through the site is read back from the replica. It
// prints one PASS/FAIL line per check and exits 1 if any failed. With -tls
// it also proves that every hop behind the load balancer runs verified TLS,
// looking at the lab's hosts (the inventory of $LAB_NAME) out of band:
// HAProxy's servers UP over TLS, the application's database sessions TLS and
// its account refused without TLS (its password in $DB_APP_PASSWORD), the
// replica verifying the primary's certificate. `make demo` runs it; the
// stack's acceptance test runs the same checks.
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
	withTLS := flag.Bool("tls", false, "also check TLS on every hop (lab hosts lb1, lb3, db1, db2 of $LAB_NAME's inventory)")
	tlsPort := flag.Int("web-tls-port", 443, "the web servers' HTTPS port (the load balancers' backend port)")
	flag.Parse()
	if t.LB == "" || t.Replica == "" {
		fmt.Fprintln(os.Stderr, "usage: stackcheck -lb ADDRESS -replica HOST:PORT [-domain NAME]")
		os.Exit(2)
	}
	failed := false
	checks := acctest.CheckStack(t)
	if *withTLS {
		tt, err := tlsTarget(t, *tlsPort)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stackcheck:", err)
			os.Exit(2)
		}
		checks = append(checks, acctest.CheckStackTLS(tt)...)
	}
	for _, c := range checks {
		fmt.Println(c)
		failed = failed || !c.OK
	}
	if failed {
		os.Exit(1)
	}
}

// tlsTarget is the demo's stack on the lab: lb1 and lb3 (when the lab has
// it), db1 the primary, db2 the replica.
func tlsTarget(t acctest.StackTarget, port int) (acctest.StackTLSTarget, error) {
	inv, err := acctest.Load()
	if err != nil {
		return acctest.StackTLSTarget{}, err
	}
	byName := map[string]acctest.Host{}
	for _, h := range inv.Hosts {
		byName[h.Name] = h
	}
	tt := acctest.StackTLSTarget{
		LB: t.LB, Domain: t.Domain, Backend: "web", WebTLSPort: port,
		Primary: byName["db1"], Replica: byName["db2"], ReplicaEndpoint: t.Replica,
		AppUser: "foobar_app", AppPassword: os.Getenv("DB_APP_PASSWORD"),
	}
	for _, n := range []string{"lb1", "lb3"} {
		if h, ok := byName[n]; ok {
			tt.LBs = append(tt.LBs, h)
		}
	}
	if len(tt.LBs) == 0 || tt.Primary.Name == "" || tt.Replica.Name == "" {
		return tt, fmt.Errorf("the lab inventory %s lacks lb1, db1 or db2", acctest.InventoryPath())
	}
	if tt.AppPassword == "" {
		return tt, fmt.Errorf("-tls needs the application's database password in $DB_APP_PASSWORD")
	}
	return tt, nil
}
