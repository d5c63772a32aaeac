// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuoteString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "''"},
		{"plain", "'plain'"},
		{"it's", "'it''s'"},
		{`back\slash`, `'back\\slash'`},
		{`\'`, `'\\'''`},
		{"line\nbreak\r\x00\x1a", `'line\nbreak\r\0\Z'`},
		{"'; DROP DATABASE app; -- ", "'''; DROP DATABASE app; -- '"},
		{"tab\tand \"double\" and `tick`", "'tab\tand \"double\" and `tick`'"},
		{"ünïcödé ✓", "'ünïcödé ✓'"},
	}
	for _, tt := range tests {
		if got := quoteString(tt.in); got != tt.want {
			t.Errorf("quoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuoteIdentAndAccount(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{QuoteIdent("app"), "`app`"},
		{QuoteIdent("a`b"), "`a``b`"},
		{QuoteIdent(""), "``"},
		{grantDBName("my_db"), "`my\\_db`"},
		{grantDBName("a%b\\c"), "`a\\%b\\\\c`"},
		{Account{User: "app", Host: "10.0.0.%"}.SQL(), "'app'@'10.0.0.%'"},
		{Account{User: "o'neil", Host: "%"}.SQL(), "'o''neil'@'%'"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

// checkOneLiteral asserts that q, placed in a statement, lexes as exactly
// one string token in both sql_modes, and decodes to want in the default
// mode (the one Script's preamble sets).
func checkOneLiteral(t *testing.T, q, want string) {
	t.Helper()
	for _, nbe := range []bool{false, true} {
		stmts, err := sqlTokens("SELECT "+q+" AS v;\n", nbe)
		if err != nil {
			t.Fatalf("no_backslash_escapes=%t: %s does not lex: %v", nbe, q, err)
		}
		if len(stmts) != 1 || len(stmts[0]) != 4 || stmts[0][1].kind != tokString {
			t.Fatalf("no_backslash_escapes=%t: %s is not one string token: %v", nbe, q, stmts)
		}
		if !nbe && stmts[0][1].text != want {
			t.Fatalf("%s decodes to %q, want %q", q, stmts[0][1].text, want)
		}
	}
	if strings.ContainsAny(q, "\n\r\x00") {
		t.Fatalf("literal %q spans lines or holds NUL", q)
	}
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"", "a", "'", `\`, `\'`, `'\`, "''", `\\'`, "\x00", "\n;DROP", "\x1a", "ü", "\xff", "%_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkOneLiteral(t, quoteString(s), s)
	})
}

func FuzzQuoteIdent(f *testing.F) {
	for _, s := range []string{"", "a", "`", "``", "a`;DROP", "\n", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := sqlTokens("SELECT 1 FROM "+QuoteIdent(s)+";", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(stmts) != 1 || len(stmts[0]) != 4 || stmts[0][3].kind != tokIdent || stmts[0][3].text != s {
			t.Fatalf("identifier %q did not round-trip: %v", s, stmts)
		}
	})
}

// FuzzBuilders feeds arbitrary values to every builder that takes user
// input. A builder either refuses the input or produces a script whose
// statements are exactly the preamble plus one per builder call, each
// starting with the expected keyword, with the values as single tokens.
func FuzzBuilders(f *testing.F) {
	f.Add("app", "10.0.0.%", "s3cret';DROP", "appdb", "db1.example.com", "/etc/ssl/ca.pem", "max_connections", "100")
	f.Add("a'b", "%", `\`, "x`y", "h;h", "/x';", "sql-mode", "A,B")
	f.Add("r", "localhost", "p\n;", "a_b", "10.0.0.1", "", "skip-name-resolve", "")
	// Issue 13: in GBK, Big5 and GB18030 "中" ends in the lead byte AD, in
	// Shift-JIS and CP932 "Ä" ends in the lead byte 84; before the doubled
	// backslash they swallow one backslash and free the quote.
	f.Add("app", "%", `中\', evil@localhost IDENTIFIED BY '#`, "appdb", "db1", "", "max_connections", "1")
	f.Add("app", "%", `Ä\', evil@localhost IDENTIFIED BY '#`, "appdb", "db1", "", "max_connections", "1")
	dialects := []Dialect{mustDialect(f, MariaDB, V(10, 11, 18)), mustDialect(f, MySQL, V(9, 7, 0)), mustDialect(f, MySQL, V(8, 0, 21))}
	f.Fuzz(func(t *testing.T, user, host, password, db, srcHost, caFile, setting, value string) {
		for _, d := range dialects {
			var stmts []Stmt
			var keywords []string
			add := func(kw string, s Stmt, err error) {
				if err == nil {
					stmts = append(stmts, s)
					keywords = append(keywords, kw)
				}
			}
			a := Account{User: user, Host: host}
			s, err := d.CreateUser(a, password, UserOptions{})
			add("CREATE", s, err)
			s, err = d.AlterUserPassword(a, password, UserOptions{RequireSSL: true})
			add("ALTER", s, err)
			s, err = d.DropUser(a)
			add("DROP", s, err)
			s, err = d.GrantReplication(a)
			add("GRANT", s, err)
			s, err = d.GrantDatabase(a, db, []string{"select", "INSERT"})
			add("GRANT", s, err)
			s, err = d.RevokeDatabase(a, db, []string{"ALL"})
			add("REVOKE", s, err)
			s, err = d.CreateDatabase(Database{Name: db})
			add("CREATE", s, err)
			var tls *SourceTLS
			if caFile != "" {
				tls = &SourceTLS{CAFile: caFile}
			}
			s, err = d.ChangeSource(SourceConfig{Host: srcHost, User: user, Password: password, TLS: tls})
			add("CHANGE", s, err)
			s, err = d.SetGlobal(setting, value)
			add("SET", s, err)
			s, err = d.ShowVariables(setting, value)
			add("SHOW", s, err)
			s, err = d.WaitForGTID(value, 0)
			add("SELECT", s, err)

			script := string(d.Script(ScriptOptions{NoBinlog: true}, stmts...))
			// Whatever charset the host's option files start the session
			// in, the script's SET NAMES switches it back before the first
			// literal: every session charset must lex the same.
			for _, cs := range sessionStartCharsets {
				checkScript(t, d, cs, script, password, stmts, keywords)
			}
		}
	})
}

// sessionStartCharsets are the charsets a session may start in on a host
// the provider does not control: the safe ones, and every one in which a
// multi-byte character can end in 0x5C.
var sessionStartCharsets = []string{"utf8mb4", "latin1", "gbk", "big5", "gb18030", "sjis", "cp932"}

func checkScript(t *testing.T, d Dialect, cs, script, password string, stmts []Stmt, keywords []string) {
	t.Helper()
	{
		{
			parsed, err := sqlTokensIn(script, cs, false)
			if err != nil {
				t.Fatalf("%s, session starting in %s: script does not lex: %v\n%s", d.Flavor, cs, err, script)
			}
			const preamble = 3
			if len(parsed) != preamble+len(stmts) {
				t.Fatalf("%s, session starting in %s: %d statements, want %d:\n%s", d.Flavor, cs, len(parsed), preamble+len(stmts), script)
			}
			for i, kw := range keywords {
				st := parsed[preamble+i]
				if len(st) == 0 || st[0].kind != tokWord || st[0].text != kw {
					t.Fatalf("%s, session starting in %s: statement %d starts with %v, want %s:\n%s", d.Flavor, cs, i, st, kw, script)
				}
			}
			// The password, when accepted, is one string token somewhere.
			if len(stmts) > 0 && stmts[0].Secret() {
				found := false
				for _, tok := range parsed[preamble] {
					if tok.kind == tokString && tok.text == password {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s, session starting in %s: password is not one token of %v", d.Flavor, cs, parsed[preamble])
				}
			}
		}
	}
}

func mustDialect(tb testing.TB, f Flavor, v Version) Dialect {
	tb.Helper()
	d, err := NewDialect(f, v)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestScriptPreamble(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MariaDB, V(10, 11, 18))
	got := string(d.Script(ScriptOptions{NoBinlog: true, LockWaitTimeout: 1500_000_000}, d.StopReplica(), d.StartReplica()))
	want := "SET NAMES utf8mb4;\n" +
		"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION';\n" +
		"SET SESSION sql_log_bin = 0;\n" +
		"SET SESSION lock_wait_timeout = 2;\n" +
		"STOP SLAVE;\nSTART SLAVE;\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("script (-want +got):\n%s", diff)
	}
	m := mustDialect(t, MySQL, V(9, 7, 0))
	if got := string(m.Script(ScriptOptions{})); got != "SET NAMES utf8mb4;\nSET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION';\n" {
		t.Errorf("MySQL preamble = %q", got)
	}
}

func TestStmtRedaction(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, MySQL, V(9, 7, 0))
	s, err := d.CreateUser(Account{User: "app", Host: "%"}, "hunter2", UserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Secret() || strings.Contains(s.String(), "hunter2") || !strings.Contains(s.SQL(), "'hunter2'") {
		t.Errorf("redaction: secret=%t String=%q", s.Secret(), s.String())
	}
	if got := s.String(); got != "CREATE ... (statement with a password, redacted)" {
		t.Errorf("String() = %q", got)
	}
}
