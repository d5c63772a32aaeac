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
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// Plan-time validation of the connection schema: each bad value is refused
// with an error that names the attribute, before any host is contacted.
func TestHostDataSource_invalidConnection(t *testing.T) {
	requireTerraform(t)
	cases := []struct {
		name, conn string
		want       *regexp.Regexp
	}{
		{"host", `host = "web 1"`, errPattern(`ssh.host = "web 1" is not valid`)},
		{"port", `host = "web1"` + "\n" + `port = 0`, errPattern("ssh.port", "must be between 1 and 65535")},
		{"user", `host = "web1"` + "\n" + `user = "de ploy"`, errPattern(`ssh.user = "de ploy" is not valid`)},
		{"key file", `host = "web1"` + "\n" + `private_key_file = "/nonexistent/id"`, errPattern(`ssh.private_key_file = "/nonexistent/id" is not valid: no such file`)},
		{"known_hosts", `host = "web1"` + "\n" + `known_hosts_file = "/nonexistent/kh"`, errPattern(`ssh.known_hosts_file = "/nonexistent/kh" is not valid: no such file`)},
		{"host key", `host = "web1"` + "\n" + `host_key = "ssh-ed25519 nope"`, errPattern(`ssh.host_key = "ssh-ed25519 nope" is not valid`)},
		{"private key", `host = "web1"` + "\n" + `private_key = "hunter2"`, errPattern("ssh.private_key is not valid: not a PEM or OpenSSH private key (the value is sensitive and not shown)")},
		{"timeout", `host = "web1"` + "\n" + `connect_timeout = "5"`, errPattern(`ssh.connect_timeout = "5" is not valid: not a duration`)},
		{"sudo password", `host = "web1"` + "\n" + `sudo_password = "a\nb"`, errPattern("ssh.sudo_password is not valid: must be a single line")},
		{"bastion host", `host = "web1"` + "\n" + `bastion = { host = "jump;rm" }`, errPattern(`ssh.bastion.host = "jump;rm" is not valid`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf("data \"foobar_host\" \"x\" {\n  ssh = {\n%s\n  }\n}\n", c.conn),
					ExpectError: c.want,
				}},
			})
		})
	}
}

// The provider reaches every lab host with strict host key checking and
// reports what each one runs.
func TestAccHostDataSource_everyLabHost(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	var cfg strings.Builder
	cfg.WriteString(inv.ProviderHCL())
	var checks []statecheck.StateCheck
	for _, h := range inv.Hosts {
		fmt.Fprintf(&cfg, "data \"foobar_host\" %q {\n  %s\n}\n", h.Name, h.ConnectionHCL())
		addr := "data.foobar_host." + h.Name
		checks = append(checks,
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("hostname"), knownvalue.StringExact(h.Name)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("os_id"), knownvalue.StringExact("debian")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("init_system"), knownvalue.StringExact("systemd")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(h.Address+":22")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("host_key_fingerprint"), knownvalue.StringRegexp(regexp.MustCompile(`^SHA256:`))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("cpus"), knownvalue.Int64Func(func(v int64) error {
				if v < 1 {
					return fmt.Errorf("cpus = %d", v)
				}
				return nil
			})),
		)
		// What the host's image flavour installs, and nothing else.
		f, err := acctest.LookupFlavor(h.Flavor)
		if err != nil {
			t.Fatalf("lab host %s: %v", h.Name, err)
		}
		services := map[string]knownvalue.Check{}
		for svc := range f.Services {
			services[svc] = knownvalue.StringRegexp(h.Version(t, svc, false))
		}
		checks = append(checks,
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("services"), knownvalue.MapExact(services)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("os_version_id"), knownvalue.StringExact(f.OSVersionID)),
		)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:            cfg.String(),
			ConfigStateChecks: checks,
		}},
	})
}

// A known_hosts entry that does not match the host's key is refused, and the
// error says that this may be an attack and shows both fingerprints.
func TestAccHostDataSource_changedHostKey(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	web1, web2 := inv.Host(t, "web1"), inv.Host(t, "web2")
	// A known_hosts file that lists web2's keys under web1's address.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := web2.Exec(t, "sh", "-c", "cat /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_rsa_key.pub")
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		f := strings.Fields(l)
		fmt.Fprintf(&b, "%s %s %s\n", web1.Address, f[0], f[1])
	}
	if err := os.WriteFile(kh, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      inv.ProviderHCL() + fmt.Sprintf("data \"foobar_host\" \"x\" {\n  %s\n}\n", web1.ConnectionHCL(fmt.Sprintf("known_hosts_file = %q", kh))),
			ExpectError: errPattern("host key for "+web1.Address+":22 has changed", "this may be a man-in-the-middle attack", "Expected ssh-ed25519 SHA256:", "received ssh-ed25519 SHA256:"),
		}},
	})
}

// A host that is not in known_hosts at all is refused with a different
// error, which tells the operator how to add it after checking it.
func TestAccHostDataSource_unknownHost(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	web1 := inv.Host(t, "web1")
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("# no hosts yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      inv.ProviderHCL() + fmt.Sprintf("data \"foobar_host\" \"x\" {\n  %s\n}\n", web1.ConnectionHCL(fmt.Sprintf("known_hosts_file = %q", kh))),
			ExpectError: errPattern("host "+web1.Address+":22 is not in known_hosts file", "it offered the", "SHA256:", "ssh-keyscan"),
		}},
	})
}

// An address where nothing answers fails by the configured deadline.
func TestAccHostDataSource_unreachableHost(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	// .250 of the lab network: inside the private network, no host there.
	prefix := strings.TrimSuffix(inv.Subnet, ".0/24")
	addr := prefix + ".250"
	start := time.Now()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      inv.ProviderHCL() + fmt.Sprintf("data \"foobar_host\" \"x\" {\n  ssh = {\n    host = %q\n    connect_timeout = \"3s\"\n  }\n}\n", addr),
			ExpectError: regexp.MustCompile(`(?s)Could not connect to .*` + regexp.QuoteMeta(addr) + `:22.*(timed out after 3s|no route to host|host is unreachable)`),
		}},
	})
	// Terraform runs the plan, then the refresh; each attempt must stop at
	// the deadline. The bound is loose: it catches a hang, not slowness.
	if el := time.Since(start); el > 60*time.Second {
		t.Errorf("the unreachable host took %s to fail; the deadline is 3s per attempt", el)
	}
}

// A host whose kernel accepts TCP but whose sshd never answers (the
// container is frozen) fails with a handshake deadline error.
func TestAccHostDataSource_hungHost(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db3 := inv.Host(t, "db3")
	db3.Pause(t)
	t.Cleanup(func() { db3.Unpause(t) })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      inv.ProviderHCL() + fmt.Sprintf("data \"foobar_host\" \"x\" {\n  %s\n}\n", db3.ConnectionHCL(`connect_timeout = "3s"`)),
			ExpectError: errPattern("handshake with " + db3.Address + ":22 timed out after 3s"),
		}},
	})
}

// sudo with a password on the lab host that requires one; a wrong password
// and a missing one are each reported plainly.
func TestAccHostDataSource_sudoPassword(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	lb2 := inv.Host(t, "lb2")
	if lb2.SudoPassword == "" {
		t.Fatal("lab host lb2 should require a sudo password")
	}
	conn := func(extra string) string {
		return inv.ProviderHCL() + fmt.Sprintf("data \"foobar_host\" \"x\" {\n  ssh = {\n    host = %q\n    %s\n  }\n}\n", lb2.Address, extra)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      conn(""),
				ExpectError: errPattern("sudo on " + lb2.Address + " requires a password for user deploy: set sudo_password"),
			},
			{
				Config:      conn(`sudo_password = "wrong-password"`),
				ExpectError: errPattern("sudo on " + lb2.Address + " rejected the password for user deploy"),
			},
			{
				Config: conn(fmt.Sprintf("sudo_password = %q", lb2.SudoPassword)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.foobar_host.x", tfjsonpath.New("hostname"), knownvalue.StringExact("lb2")),
				},
			},
		},
	})
}
