// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// What the web server's docs promise about a few attributes, on a real
// host (web2):
//   - install = false on a host without Nginx is an error and changes
//     nothing;
//   - disable_default_site = true takes Debian's default site out, and
//     setting it back to false enables it again (Nginx reloaded: the
//     default site answers);
//   - a changed app.environment restarts the application, which sees the
//     new value;
//   - a changed document_root leaves the previous one in place, and the
//     site serves the new one.
func TestAccWebServer_documentedChanges(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	h := inv.Host(t, "web2")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "public")
	acctest.WriteTree(t, src, map[string]string{"index.html": "<h1>docs</h1>\n", "static/a.css": "a {}\n"})
	app := acctest.BuildTestApp(t, filepath.Join(tmp, "v1"), "testapp", "v1", true)
	cfg := func(disableDefault bool, greeting, docRoot string) webConfig {
		return webConfig{
			host: h, name: "docs", serverName: "www.docs.test", port: 8090, appPort: 8091,
			docRoot: docRoot, sourceDir: src, artifact: app,
			extra:    fmt.Sprintf("  disable_default_site = %t", disableDefault),
			cmdExtra: `, "-show", "GREETING"`, appExtra: fmt.Sprintf(`    environment = { GREETING = %q }`, greeting),
		}
	}
	first, second := cfg(true, "one", "/srv/www/docs-a"), cfg(false, "two", "/srv/www/docs-b")
	noInstall := first
	noInstall.extra += "\n  install = false"
	forget(t, h, "docs")
	cleanupUser(t, h, "acc-docs")
	t.Cleanup(func() { _, _ = h.TryExec("rm", "-rf", "/srv/www/docs-a", "/srv/www/docs-b") })
	site := "http://" + h.Address + ":8090"
	defaultSite := "http://" + h.Address + "/"
	defaultServes := func() bool {
		r, err := acctest.Fetch(context.Background(), vhost(""), acctest.Request{URL: defaultSite})
		return err == nil && r.Status == 200 && strings.Contains(r.Body, h.Name)
	}
	differentPID := statecheck.CompareValue(compare.ValuesDiffer())
	addr := first.addr()

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			// The previous document root is still there; the current one
			// is removed with the site.
			out := h.Exec(t, "sh", "-c", "cat /srv/www/docs-a/index.html; [ -e /srv/www/docs-b ] && echo docs-b-left; true")
			if out != "<h1>docs</h1>\n" {
				return fmt.Errorf("after destroy: %q", out)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					// On Docker's fuse-overlayfs storage a binary that a reinstall
					// replaced comes back from the image's layer when dpkg removes
					// it (an earlier run on the same lab reinstalled nginx), so a
					// /usr/sbin/nginx that no package owns is removed too.
					h.Exec(t, "sh", "-c", `DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nginx nginx-common >/dev/null 2>&1
if [ -e /usr/sbin/nginx ] && ! dpkg -S /usr/sbin/nginx >/dev/null 2>&1; then rm -f /usr/sbin/nginx; fi
[ ! -e /etc/nginx/nginx.conf ] && [ ! -e /usr/sbin/nginx ]`)
				},
				Config:      noInstall.hcl(inv),
				ExpectError: errPattern("nginx is not installed on", "install is false"),
			},
			{
				PreConfig: func() {
					out := h.Exec(t, "sh", "-c", "command -v nginx; ls -d /etc/nginx /srv/www/docs-a /opt/foobar/docs /etc/systemd/system/foobar-docs.service 2>/dev/null; getent passwd acc-docs; true")
					if strings.TrimSpace(out) != "" {
						t.Fatalf("install = false changed the host: %q", out)
					}
				},
				Config: first.hcl(inv),
				ConfigStateChecks: []statecheck.StateCheck{
					differentPID.AddStateValue(addr, tfjsonpath.New("app_pid")),
				},
				Check: hostCheck(func() error {
					if h.Exec(t, "sh", "-c", "[ -L /etc/nginx/sites-enabled/default ] && echo on; true") != "" || defaultServes() {
						return fmt.Errorf("disable_default_site = true, yet Debian's default site is enabled")
					}
					if a := getApp(t, site+"/api/env", "www.docs.test"); a.Env["GREETING"] != "one" {
						return fmt.Errorf("application: %+v", a)
					}
					return nil
				}),
			},
			{
				Config: second.hcl(inv),
				ConfigStateChecks: []statecheck.StateCheck{
					differentPID.AddStateValue(addr, tfjsonpath.New("app_pid")), // restarted
				},
				Check: hostCheck(func() error {
					if !defaultServes() {
						return fmt.Errorf("disable_default_site back to false, yet Debian's default site does not answer on %s", defaultSite)
					}
					if a := getApp(t, site+"/api/env", "www.docs.test"); a.Env["GREETING"] != "two" {
						return fmt.Errorf("after the environment changed the application sees %+v", a.Env)
					}
					if out := h.Exec(t, "cat", "/srv/www/docs-a/index.html", "/srv/www/docs-b/static/a.css"); out != "<h1>docs</h1>\na {}\n" {
						return fmt.Errorf("document roots after the change: %q", out)
					}
					r := acctest.MustFetch(t, vhost("www.docs.test"), acctest.Request{URL: site + "/static/a.css"})
					if r.Status != 200 || r.Body != "a {}\n" {
						return fmt.Errorf("static file from the new document root: HTTP %d %q", r.Status, r.Body)
					}
					if out := h.Exec(t, "sh", "-c", "grep -h 'root ' /etc/nginx/sites-available/foobar-docs.conf"); !strings.Contains(out, "/srv/www/docs-b") {
						return fmt.Errorf("the site does not serve the new document root: %q", out)
					}
					return nil
				}),
			},
		},
	})
}
