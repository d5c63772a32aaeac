// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"errors"
	"strings"
	"testing"
)

func TestSupportedSystem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, osRelease string
		// want is "" for a supported host, else substrings of the error.
		want []string
	}{
		{"Debian 12", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n", nil},
		{"Debian 13", "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nVERSION_ID=\"13\"\nID=debian\n", nil},
		{"Debian sid", "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\n", nil},
		{"Ubuntu (ID_LIKE=debian)", "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n", nil},
		{"Pop (ID_LIKE lists debian second)", "ID=pop\nID_LIKE=\"ubuntu debian\"\n", nil},
		{"Rocky", "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n",
			[]string{`the host runs Rocky Linux 9.4 (Blue Onyx) (ID="rocky", ID_LIKE="rhel centos fedora"), which the provider does not support`, "Debian"}},
		{"Alpine without PRETTY_NAME", "ID=alpine\n", []string{`the host runs alpine (ID="alpine", ID_LIKE="")`}},
		{"debian only as a substring", "ID=notdebian\nID_LIKE=\"debianish\"\n", []string{`ID="notdebian"`}},
		{"no os-release", "", []string{"has no /etc/os-release", "cannot be identified"}},
	}
	for _, c := range cases {
		err := SupportedSystem(c.osRelease)
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		var ue *UnsupportedSystemError
		if !errors.As(err, &ue) {
			t.Errorf("%s: got %v, want an *UnsupportedSystemError", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}
