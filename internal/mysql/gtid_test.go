// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import "testing"

func TestGTIDSetMinus(t *testing.T) {
	t.Parallel()
	u := "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	v := "4f22fa47-71ca-11e1-9e33-c80aa9429562"
	for _, tc := range []struct {
		name   string
		f      Flavor
		g, o   string
		minus  string
		within bool
	}{
		{"maria equal", MariaDB, "0-1-10", "0-1-10", "", true},
		{"maria behind", MariaDB, "0-1-9", "0-2-12", "", true},
		{"maria ahead", MariaDB, "0-1-14", "0-2-12", "domain 0 sequence 13-14", false},
		{"maria new domain", MariaDB, "0-1-5,1-1-3", "0-1-5", "domain 1 sequence 1-3", false},
		{"maria empty", MariaDB, "", "0-1-5", "", true},
		{"mysql equal", MySQL, u + ":1-10", u + ":1-10", "", true},
		{"mysql ahead", MySQL, u + ":1-12", u + ":1-10", u + ":11-12", false},
		{"mysql other uuid", MySQL, u + ":1-10,\n" + v + ":1", u + ":1-10", v + ":1", false},
		{"mysql hole", MySQL, u + ":1-10", u + ":1-4:6-10", u + ":5", false},
		{"mysql tag", MySQL, u + ":1-3:t:1", u + ":1-3", u + ":t:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, err := ParseGTIDSet(tc.f, tc.g)
			if err != nil {
				t.Fatal(err)
			}
			o, err := ParseGTIDSet(tc.f, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Minus(o); got != tc.minus {
				t.Errorf("Minus = %q, want %q", got, tc.minus)
			}
			if got := o.Contains(g); got != tc.within {
				t.Errorf("Contains = %t, want %t", got, tc.within)
			}
		})
	}
	// A write on a cut-off primary (server 3, sequence 101) stays errant
	// though the new primary's sequence numbers went further.
	fenced, _ := ParseMariaDBBinlogState("0-1-90,0-3-101")
	primary, _ := ParseMariaDBBinlogState("0-1-90,0-2-120,0-3-100")
	if got, want := fenced.Minus(primary), "domain 0 server 3 sequence 101-101"; got != want {
		t.Errorf("binlog state Minus = %q, want %q", got, want)
	}
	if _, err := ParseGTIDSet(MariaDB, "0-1"); err == nil {
		t.Error("0-1 parsed as a MariaDB GTID")
	}
}
