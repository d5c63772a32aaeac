// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// dangerousCharsets are the character sets in which a multi-byte character
// can end in 0x5C (backslash), each with a UTF-8 prefix whose last byte is
// a lead byte there: the quoting's doubled backslash then becomes "trail
// byte + escape", and the quote after it closes the literal. (GBK, Big5 and
// GB18030: "中" is E4 B8 AD, read as E4B8, AD5C. Shift-JIS and CP932: "Ä" is
// C3 84, read as C3 (half-width katakana), 845C.)
var dangerousCharsets = []struct{ name, prefix string }{
	{"gbk", "中"}, {"big5", "中"}, {"gb18030", "中"}, {"sjis", "Ä"}, {"cp932", "Ä"},
}

// TestAccLabCharsetPinned puts each lab flavor into each dangerous
// character set the way a host's owner could, without the provider's
// settings: a client option file whose init-command switches the session
// to it (both flavors), and on MariaDB also a server that ignores the
// client's character set (skip-character-set-client-handshake, with the
// charset as the server's). Then it creates, as converge does (one script,
// the crafted account last), two accounts whose passwords are written to
// escape their literal in that charset, and proves that exactly the declared
// accounts exist and each logs in with its password as written.
func TestAccLabCharsetPinned(t *testing.T) {
	nodes := labNodes(t)
	inv := acctest.RemoteLab(t)
	for _, name := range []string{"db1", "mysql1"} {
		n, h := nodes[name], inv.Host(t, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			known := h.SQL(t, "SELECT character_set_name FROM information_schema.character_sets")
			clientFile := "/etc/mysql/conf.d/zz-foobar-test-charset.cnf"
			t.Cleanup(func() { _, _ = h.TryExec("rm", "-f", clientFile) })
			ways := []string{"client init-command"}
			if n.Dialect.Flavor == MariaDB {
				ways = append(ways, "server without handshake")
			}
			for _, way := range ways {
				if way == "server without handshake" {
					h.Exec(t, "rm", "-f", clientFile)
					serverFile := "/etc/mysql/mariadb.conf.d/zz-foobar-test-charset.cnf"
					h.WriteFile(t, serverFile, 0o644, []byte("[mysqld]\nskip-character-set-client-handshake\ncharacter-set-server = gbk\ncollation-server = gbk_chinese_ci\n"))
					t.Cleanup(func() {
						_, _ = h.TryExec("rm", "-f", serverFile)
						if _, err := h.TryExec("systemctl", "restart", h.Service); err != nil {
							t.Errorf("restoring %s: %v", name, err)
						}
					})
					h.Exec(t, "systemctl", "restart", h.Service)
				}
				for _, cs := range dangerousCharsets {
					if !slices.Contains(strings.Fields(known), cs.name) {
						t.Logf("%s does not know %s: skipped", name, cs.name)
						continue
					}
					switch way {
					case "client init-command":
						h.WriteFile(t, clientFile, 0o644, []byte(fmt.Sprintf("[mysql]\ninit-command = \"SET NAMES %s\"\n", cs.name)))
					default:
						h.SQL(t, fmt.Sprintf("SET GLOBAL character_set_client = %[1]s, GLOBAL character_set_connection = %[1]s, GLOBAL character_set_results = %[1]s;", cs.name))
					}
					checkCharsetAccounts(t, n, h, way, cs.name, cs.prefix)
				}
			}
		})
	}
}

func checkCharsetAccounts(t *testing.T, n Node, h acctest.Host, way, cs, prefix string) {
	t.Helper()
	const evil = "foobar_evil"
	users := map[string]string{
		"foobar_cs_plain":   prefix + `\\ plain ' "`,
		"foobar_cs_crafted": prefix + `\', ` + evil + `@localhost IDENTIFIED BY '#`,
	}
	drop := "DROP USER IF EXISTS 'foobar_cs_plain'@'%', 'foobar_cs_crafted'@'%', '" + evil + "'@'localhost', '" + evil + "'@'%';"
	// The attack works on the host's own client: its session really is in
	// cs (one client run: docker exec is slow on a loaded machine).
	if got := strings.TrimSpace(h.SQL(t, drop+"\nSELECT @@character_set_client;")); got != cs {
		t.Fatalf("%s (%s): the host's client session is in %q, not %s: the attack is not set up", n.Host, way, got, cs)
	}
	t.Cleanup(func() { _, _ = h.TrySQL(drop) })

	var stmts []Stmt
	for _, u := range []string{"foobar_cs_plain", "foobar_cs_crafted"} {
		s, err := n.Dialect.CreateUser(Account{User: u, Host: "%"}, users[u], UserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	execErr := n.Exec(ctx, ScriptOptions{NoBinlog: true}, stmts...)

	got := strings.Fields(h.SQL(t, "SELECT CONCAT(user, '@', host) FROM mysql.user WHERE user LIKE 'foobar\\_%' ORDER BY 1"))
	want := []string{"foobar_cs_crafted@%", "foobar_cs_plain@%"}
	if !slices.Equal(got, want) {
		t.Errorf("%s, %s: accounts after the apply are %q, want exactly %q (apply error: %v)", n.Host, cs+" via "+way, got, want, execErr)
		return
	}
	if execErr != nil {
		t.Errorf("%s, %s: apply: %v", n.Host, cs+" via "+way, execErr)
		return
	}
	for u, pw := range users {
		if out, err := h.SQLAs(u, pw, "", "SELECT CURRENT_USER();"); err != nil || !strings.HasPrefix(out, u+"@") {
			t.Errorf("%s, %s: %s cannot log in with its password as written: %v %s", n.Host, cs+" via "+way, u, err, out)
		}
	}
}
