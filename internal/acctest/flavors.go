// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Flavor is what a lab image flavour (a folder under lab/images/) runs:
// the Debian release and the upstream major.minor of each service its
// packages install. Tests assert versions through it instead of
// hard-coding one release.
type Flavor struct {
	// OSVersionID is VERSION_ID in /etc/os-release; empty on sid.
	OSVersionID string
	// Services maps haproxy, nginx, mariadb and mysql to the upstream
	// version prefix the image installs ("2.6", or "9" where the suite
	// moves between minor releases). A service not installed is absent.
	Services map[string]string
}

// Flavors are the lab's image flavours by name. A flavour added to
// lab/images/ needs an entry here before its hosts can be tested.
var Flavors = map[string]Flavor{
	"bookworm":  {OSVersionID: "12", Services: map[string]string{"haproxy": "2.6", "nginx": "1.22", "mariadb": "10.11"}},
	"trixie":    {OSVersionID: "13", Services: map[string]string{"haproxy": "3.0", "nginx": "1.26", "mariadb": "11.8"}},
	"sid-mysql": {OSVersionID: "", Services: map[string]string{"mysql": "9"}},
}

// LookupFlavor returns the flavour's entry in Flavors.
func LookupFlavor(name string) (Flavor, error) {
	f, ok := Flavors[name]
	if !ok {
		names := make([]string, 0, len(Flavors))
		for n := range Flavors {
			names = append(names, n)
		}
		sort.Strings(names)
		return Flavor{}, fmt.Errorf("lab image flavour %q has no entry in acctest.Flavors (have %s)", name, strings.Join(names, ", "))
	}
	return f, nil
}

// VersionPattern matches a version of service as this flavour installs
// it: its prefix, a dot, then anything ("^2\.6\."). With upstream set the
// rest must be an upstream release number and nothing else ("^2\.6\.[0-9]+$"
// matches 2.6.12 but not 2.6.12-1+deb12u3).
func (f Flavor) VersionPattern(service string, upstream bool) (*regexp.Regexp, error) {
	prefix, ok := f.Services[service]
	if !ok {
		return nil, fmt.Errorf("this lab flavour does not install %s", service)
	}
	re := "^" + regexp.QuoteMeta(prefix) + `\.`
	if upstream {
		re += `[0-9]+(\.[0-9]+)*$`
	}
	return regexp.Compile(re)
}

// Version is h's flavour's VersionPattern for service, or fails the test.
func (h Host) Version(t testing.TB, service string, upstream bool) *regexp.Regexp {
	t.Helper()
	f, err := LookupFlavor(h.Flavor)
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	re, err := f.VersionPattern(service, upstream)
	if err != nil {
		t.Fatalf("%s (%s): %v", h.Name, h.Flavor, err)
	}
	return re
}

// Release is one Debian release of the lab and the hosts that every
// resource's main acceptance tests use on it: a load balancer, two web
// servers, a MariaDB primary and a replica, all of image flavour Flavor.
type Release struct {
	Flavor             string
	LB, Web1, Web2     string
	DBPrimary, Replica string
	// LBPeer is a second load balancer that forms a pair with LB behind a
	// virtual address in the stack's test; "" when the release has none.
	LBPeer string
}

// Releases are the Debian releases the main acceptance tests run on, in
// lab/hosts' names.
var Releases = []Release{
	{Flavor: "bookworm", LB: "lb1", Web1: "web1", Web2: "web2", DBPrimary: "db1", Replica: "db2", LBPeer: "lb3"},
	{Flavor: "trixie", LB: "lbt1", Web1: "webt1", Web2: "webt2", DBPrimary: "dbt1", Replica: "dbt2"},
}

// Hosts are the release's hosts from the inventory; the test fails when one
// is missing or runs another flavour (lab/hosts and Releases disagree).
type Hosts struct {
	LB, Web1, Web2, DBPrimary, Replica Host
	// LBPeer is the zero Host when the release has none.
	LBPeer Host
}

// Hosts looks the release's hosts up in inv.
func (r Release) Hosts(t testing.TB, inv *Inventory) Hosts {
	t.Helper()
	get := func(name string) Host {
		h := inv.Host(t, name)
		if h.Flavor != r.Flavor {
			t.Fatalf("lab host %s runs flavour %q, want %q (lab/hosts and acctest.Releases disagree)", name, h.Flavor, r.Flavor)
		}
		return h
	}
	hs := Hosts{LB: get(r.LB), Web1: get(r.Web1), Web2: get(r.Web2), DBPrimary: get(r.DBPrimary), Replica: get(r.Replica)}
	if r.LBPeer != "" {
		hs.LBPeer = get(r.LBPeer)
	}
	return hs
}

// Parallel says whether EachRelease runs the releases at the same time.
type Parallel bool

const (
	// InParallel runs the releases' subtests at the same time: their hosts
	// are disjoint. The body must not call t.Setenv.
	InParallel Parallel = true
	// OneAfterTheOther runs them in turn, for bodies that change the
	// process environment (t.Setenv).
	OneAfterTheOther Parallel = false
)

// EachRelease runs body once per release as a subtest named by the
// flavour (TestAccX/bookworm, TestAccX/trixie), so a failure names the
// Debian release it happened on.
func EachRelease(t *testing.T, p Parallel, body func(t *testing.T, inv *Inventory, hosts Hosts)) {
	t.Helper()
	for _, r := range Releases {
		t.Run(r.Flavor, func(t *testing.T) {
			if p {
				t.Parallel()
			}
			inv := Lab(t)
			body(t, inv, r.Hosts(t, inv))
		})
	}
}
