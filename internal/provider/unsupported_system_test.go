// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// rockyOSRelease is a RHEL-family host's /etc/os-release.
const rockyOSRelease = `NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
`

// stateOfHost is what must not change when a resource refuses a host:
// every file under /etc and /var/lib/foobar (path, size, mode, mtime), the
// installed packages, and the running services.
const stateOfHost = `find /etc /var/lib/foobar /srv /opt -xdev -printf '%p %s %m %T@\n' 2>/dev/null | sort | sha256sum
dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sha256sum
systemctl list-units --type=service --state=running --no-legend --plain | awk '{print $1}' | sort | sha256sum`

// TestAccUnsupportedSystem: the provider changes only Debian-family hosts.
// On a host whose os-release says Rocky Linux, each resource fails at its
// first step with a message that names the system and what is supported,
// and nothing on the host changes: no package is installed, no file is
// written, no service is started or stopped.
func TestAccUnsupportedSystem(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "db3")
	gw := strings.TrimSuffix(inv.Subnet, ".0/24") + ".1" // the test machine, as the hosts see it
	// The host says it is Rocky Linux for the length of the test (a bind
	// mount over the file /etc/os-release points at; undone at the end,
	// and by any restart of the container).
	h.ExecInput(t, rockyOSRelease, "sh", "-c", "cat > /run/foobar-acc-os-release")
	h.Exec(t, "mount", "--bind", "/run/foobar-acc-os-release", "/etc/os-release")
	t.Cleanup(func() {
		_, _ = h.TryExec("umount", "/etc/os-release")
		_, _ = h.TryExec("rm", "-f", "/run/foobar-acc-os-release")
	})
	if got := h.Exec(t, "sh", "-c", ". /etc/os-release && echo $ID"); strings.TrimSpace(got) != "rocky" {
		t.Fatalf("the fake os-release is not in place: ID=%q", got)
	}
	// A host that has just booted may still be settling (systemd touches
	// /etc for a moment): the baseline is a state that held for a second.
	before := h.Exec(t, "sh", "-c", stateOfHost)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		again := h.Exec(t, "sh", "-c", stateOfHost)
		if again == before {
			break
		}
		before = again
	}

	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	artifact := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(artifact, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	refused := func() *regexp.Regexp {
		return errPattern(`the host runs Rocky Linux 9.4 (Blue Onyx) (ID="rocky", ID_LIKE="rhel centos fedora"), which the provider does not support`,
			"Debian and distributions derived from it", "Nothing was changed")
	}
	unchanged := func() {
		if after := h.Exec(t, "sh", "-c", stateOfHost); after != before {
			t.Fatalf("the refused apply changed the host:\nbefore %s\nafter  %s", before, after)
		}
	}
	web := webConfig{host: h, name: "unsupported", serverName: "unsupported.test", port: 8089, appPort: 9089,
		docRoot: "/srv/www/unsupported", sourceDir: src, artifact: artifact}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Nothing was created, so nothing is destroyed: this runs after
		// the last refusal.
		CheckDestroy: func(*terraform.State) error { unchanged(); return nil },
		Steps: []resource.TestStep{
			{
				Config:      basicLB(inv, h, inv.Host(t, "web1"), inv.Host(t, "web2"), "", ""),
				ExpectError: refused(),
			},
			{
				PreConfig:   unchanged,
				Config:      web.hcl(inv),
				ExpectError: refused(),
			},
			{
				PreConfig: unchanged,
				Config: mysqlClusterHCL(inv, h, nil, `  replication_user     = "repl"
  replication_password = "Repl-Pw-1234567890"
`),
				ExpectError: refused(),
			},
			{
				PreConfig: unchanged,
				Config: inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_firewall" "unsupported" {
  %s
  admin_sources = [%q]
  allow         = [{ port = 3306, from = [%q] }]
}
`, h.ConnectionHCL(), gw, inv.Host(t, "web1").Address),
				ExpectError: refused(),
			},
		},
	})
}
