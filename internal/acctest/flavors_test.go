// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlavorVersionPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flavor, service string
		upstream        bool
		match, noMatch  []string
	}{
		{"bookworm", "haproxy", true, []string{"2.6.12"}, []string{"2.6.12-1+deb12u3", "3.0.11", "2.60.1", "12.6.1"}},
		{"bookworm", "haproxy", false, []string{"2.6.12", "2.6.12-1+deb12u3"}, []string{"3.0.11"}},
		{"trixie", "haproxy", true, []string{"3.0.11"}, []string{"3.0.11-1", "2.6.12", "3.01.1"}},
		{"trixie", "nginx", true, []string{"1.26.3"}, []string{"1.22.1"}},
		{"trixie", "mariadb", true, []string{"11.8.3"}, []string{"11.8.3-MariaDB-0+deb13u1", "10.11.14"}},
		{"bookworm", "mariadb", false, []string{"10.11.14-MariaDB-0+deb12u1"}, []string{"11.8.3"}},
		{"sid-mysql", "mysql", true, []string{"9.7.0", "9.10.1"}, []string{"8.0.36", "9.7.0-2"}},
	} {
		f, err := LookupFlavor(tc.flavor)
		if err != nil {
			t.Fatal(err)
		}
		re, err := f.VersionPattern(tc.service, tc.upstream)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range tc.match {
			if !re.MatchString(v) {
				t.Errorf("%s %s (upstream %v): %s does not match %q", tc.flavor, tc.service, tc.upstream, re, v)
			}
		}
		for _, v := range tc.noMatch {
			if re.MatchString(v) {
				t.Errorf("%s %s (upstream %v): %s matches %q", tc.flavor, tc.service, tc.upstream, re, v)
			}
		}
	}
	if _, err := Flavors["sid-mysql"].VersionPattern("haproxy", false); err == nil {
		t.Error("sid-mysql has no haproxy, yet VersionPattern found a pattern")
	}
	if _, err := LookupFlavor("buster"); err == nil || !strings.Contains(err.Error(), `"buster"`) {
		t.Errorf("unknown flavour: err = %v", err)
	}
}

// Every image flavour in lab/images has an entry in Flavors, and every
// release's hosts are in lab/hosts with that flavour.
func TestFlavorsMatchTheLab(t *testing.T) {
	t.Parallel()
	root := RepoRoot()
	dirs, err := os.ReadDir(filepath.Join(root, "lab", "images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := LookupFlavor(d.Name()); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "lab", "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	flavorOf := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			flavorOf[f[0]] = f[1]
		}
	}
	for _, r := range Releases {
		for _, h := range []string{r.LB, r.Web1, r.Web2, r.DBPrimary, r.Replica} {
			if flavorOf[h] != r.Flavor {
				t.Errorf("release %s: host %s is %q in lab/hosts, want flavour %s", r.Flavor, h, flavorOf[h], r.Flavor)
			}
		}
	}
}
