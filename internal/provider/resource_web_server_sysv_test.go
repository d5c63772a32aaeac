// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// On a host without systemd (the application runs under the provider's
// SysV init script), app.environment = { LD_PRELOAD = <a library that logs
// the uid of every process it is loaded into> } reaches the application,
// as its user, and no root process: not at create, not at the restart an
// environment change causes, not at destroy (issue 13.3). The application
// is started through /usr/bin/env (dynamic; the Go test application is
// static and would not load the library).
func TestAccWebServer_sysvEnvironmentNeverRoot(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h, sshCfg := inv.StartSysVHost(t)
	tmp := t.TempDir()
	lib := acctest.BuildUIDLogger(t, tmp)
	app := acctest.BuildTestApp(t, tmp, "testapp", "v1", true)

	const (
		name   = "sysvenv"
		libDst = "/usr/local/lib/foobar-uidlog.so"
		uidLog = "/var/log/foobar-uidlog/uid.log"
		user   = "acc-sysvenv"
	)
	data, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile(t, libDst, 0o644, data)
	// Not under /tmp: fs.protected_regular would keep the application's
	// user from opening root's file in a sticky directory.
	h.Exec(t, "sh", "-c", `set -e; mkdir -p -m 0755 "$(dirname "$1")"; : > "$1"; chmod 0666 "$1"`, "sh", uidLog)

	hcl := func(round string) string {
		return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_web_server" %[1]q {
  %[2]s
  name          = %[1]q
  server_names  = ["www.sysvenv.test"]
  document_root = "/srv/www/sysvenv"
  app = {
    artifact_source      = %[3]q
    command              = ["/usr/bin/env", "/opt/foobar/%[1]s/bin/testapp", "-listen", "127.0.0.1:8083"]
    port                 = 8083
    user                 = %[4]q
    health_check_timeout = "10s"
    environment = {
      LD_PRELOAD     = %[5]q
      FOOBAR_UID_LOG = %[6]q
      ROUND          = %[7]q
    }
  }
}
`, name, h.ConnectionHCL(fmt.Sprintf("known_hosts_file = %q", sshCfg.KnownHostsFile)), app, user, libDst, uidLog, round)
	}
	addr := "foobar_web_server." + name

	// check reads the log: no line of uid or euid 0, and at least want
	// lines of the application's user running /usr/bin/env.
	check := func(want int) error {
		uid := strings.TrimSpace(h.Exec(t, "id", "-u", user))
		b := h.Exec(t, "cat", uidLog)
		var root []string
		appLines := 0
		for _, line := range strings.Split(strings.TrimSpace(b), "\n") {
			switch {
			case strings.HasPrefix(line, "uid=0 ") || strings.Contains(line, " euid=0 "):
				root = append(root, line)
			case strings.HasPrefix(line, "uid="+uid+" euid="+uid+" exe=/usr/bin/env"):
				appLines++
			}
		}
		if len(root) > 0 {
			return fmt.Errorf("the application's LD_PRELOAD was loaded into root processes on the SysV host:\n%s", strings.Join(root, "\n"))
		}
		if appLines < want {
			return fmt.Errorf("the library was loaded %d times into the application (uid %s), want at least %d; log:\n%s", appLines, uid, want, b)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// The container is removed when the test ends; the user stays
		// until then, so the log's uid can still be named.
		CheckDestroy: func(*terraform.State) error { return check(2) },
		Steps: []resource.TestStep{
			{
				Config: hcl("1"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("init_system"), knownvalue.StringExact("sysvinit")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("app_state"), knownvalue.StringExact("active")),
				},
				Check: hostCheck(func() error { return check(1) }),
			},
			{
				// A changed value restarts the application.
				Config: hcl("2"),
				Check:  hostCheck(func() error { return check(2) }),
			},
		},
	})
}

// TestAccWebServer_sysvFailedFirstInstall: the SysV side of
// TestAccWebServer_failedFirstInstall. A first apply whose application
// never gets healthy rolls back its init script, and the restart that
// follows finds the script gone: it stops the application by its pid file
// and takes it out of the boot sequence (update-rc.d remove), so nothing
// of it runs or starts at boot. The failed create is kept in the state,
// tainted, and the fixed apply replaces it.
func TestAccWebServer_sysvFailedFirstInstall(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h, sshCfg := inv.StartSysVHost(t)
	src, good, bad := goodAndBadApp(t)
	const name, addr = "sysvfail", "foobar_web_server.sysvfail"
	hcl := func(artifact string) string {
		return inv.ProviderHCL() + fmt.Sprintf(`
resource "foobar_web_server" %[1]q {
  %[2]s
  name          = %[1]q
  server_names  = ["www.sysvfail.test"]
  document_root = "/srv/www/sysvfail"
  source_dir    = %[3]q
  app = {
    artifact_source      = %[4]q
    command              = ["/opt/foobar/%[1]s/bin/testapp", "-listen", "127.0.0.1:8084"]
    port                 = 8084
    user                 = "acc-sysvfail"
    health_check_timeout = "5s"
  }
}
`, name, h.ConnectionHCL(fmt.Sprintf("known_hosts_file = %q", sshCfg.KnownHostsFile)), src, artifact)
	}
	// What the failed first apply must not leave: the init script, a boot
	// link in any runlevel, the pid file, a process of the application's
	// user.
	leftovers := func() string {
		return strings.TrimSpace(h.Exec(t, "sh", "-c", `
[ -e /etc/init.d/foobar-sysvfail ] && echo "left: /etc/init.d/foobar-sysvfail"
for l in /etc/rc?.d/*foobar-sysvfail; do [ -L "$l" ] && echo "left: $l"; done
[ -e /run/foobar-sysvfail.pid ] && echo "left: /run/foobar-sysvfail.pid"
pgrep -u acc-sysvfail >/dev/null 2>&1 && echo "a process of acc-sysvfail runs"
true`))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: hcl(bad),
				ExpectError: errPattern("Deploy Application Error", "foobar-sysvfail did not pass its health check",
					"Nothing of it existed on the host before", "none of these files is left"),
			},
			{
				PreConfig: func() {
					if left := leftovers(); left != "" {
						t.Fatalf("after the failed first install on the SysV host:\n%s", left)
					}
				},
				Config: hcl(good),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("init_system"), knownvalue.StringExact("sysvinit")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("app_state"), knownvalue.StringExact("active")),
				},
			},
		},
	})
}
