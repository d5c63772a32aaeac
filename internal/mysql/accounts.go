// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ListAccountsQuery lists which of the given accounts exist, as user and
// host columns (ParseAccounts), with their TLS requirement (ssl_type:
// ParseAccountsRequireSSL).
func (d Dialect) ListAccountsQuery(accounts []Account) (Stmt, error) {
	if len(accounts) == 0 {
		return newStmt("SELECT User AS user, Host AS host, ssl_type AS ssl_type FROM mysql.user WHERE FALSE"), nil
	}
	var names []string
	for i, a := range accounts {
		if err := d.validAccount(fmt.Sprintf("accounts[%d]", i), a); err != nil {
			return Stmt{}, err
		}
		if !slices.Contains(names, a.User) {
			names = append(names, a.User)
		}
	}
	return newStmt("SELECT User AS user, Host AS host, ssl_type AS ssl_type FROM mysql.user WHERE User IN (" + quoteList(names) + ") ORDER BY User, Host"), nil
}

// ParseAccounts reads ListAccountsQuery's answer.
func ParseAccounts(t Table) (map[Account]bool, error) {
	out := map[Account]bool{}
	for i := range t.Rows {
		u, ok1 := t.Get(i, "user")
		h, ok2 := t.Get(i, "host")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("account list without user and host columns: %q", t.Columns)
		}
		out[Account{User: u, Host: h}] = true
	}
	return out, nil
}

// ParseAccountsRequireSSL reads which accounts of ListAccountsQuery's
// answer require TLS (any ssl_type: REQUIRE SSL, X509, ISSUER, ...).
func ParseAccountsRequireSSL(t Table) map[Account]bool {
	out := map[Account]bool{}
	for i := range t.Rows {
		u, _ := t.Get(i, "user")
		h, _ := t.Get(i, "host")
		v, _ := t.Get(i, "ssl_type")
		out[Account{User: u, Host: h}] = v != "" && v != "NULL"
	}
	return out
}

// ShowGrants is SHOW GRANTS FOR an account: one GRANT statement per row
// (ParseGrants). It fails (error 1141) when the account does not exist.
func (d Dialect) ShowGrants(a Account) (Stmt, error) {
	if err := d.validAccount("account", a); err != nil {
		return Stmt{}, err
	}
	return newStmt("SHOW GRANTS FOR " + a.SQL()), nil
}

// ShowCreateUser is SHOW CREATE USER for an account. Its answer carries the
// password hash: it is for CopyAccount only. MySQL needs
// AccountCopyPrelude in the same session so binary hashes print as hex.
func (d Dialect) ShowCreateUser(a Account) (Stmt, error) {
	if err := d.validAccount("account", a); err != nil {
		return Stmt{}, err
	}
	return newStmt("SHOW CREATE USER " + a.SQL()), nil
}

// AccountCopyPrelude is what a session reading ShowCreateUser needs first:
// MySQL prints caching_sha2_password hashes as raw bytes unless
// print_identified_with_as_hex is on (8.0.17+). Nil on MariaDB.
func (d Dialect) AccountCopyPrelude() []Stmt {
	if d.Flavor == MySQL && d.Version.AtLeast(8, 0, 17) {
		return []Stmt{newStmt("SET SESSION print_identified_with_as_hex = ON")}
	}
	return nil
}

// CopyAccount turns a source server's SHOW CREATE USER and SHOW GRANTS
// answers into statements that recreate the account, with the same password
// hash, on a freshly seeded replica (run them with ScriptOptions.NoBinlog).
// The account is dropped first if it exists there. The statements carry the
// hash and are secret: never logged, scrubbed from errors.
func (d Dialect) CopyAccount(a Account, create, grants Table) ([]Stmt, error) {
	drop, err := d.DropUser(a)
	if err != nil {
		return nil, err
	}
	if len(create.Rows) != 1 || len(create.Columns) != 1 {
		return nil, fmt.Errorf("SHOW CREATE USER %s: expected one value, got %d rows of %q", a, len(create.Rows), create.Columns)
	}
	stmt := create.Rows[0][0]
	if !strings.HasPrefix(stmt, "CREATE USER ") {
		return nil, fmt.Errorf("SHOW CREATE USER %s: unexpected answer", a)
	}
	out := []Stmt{drop, newSecretStmt(stmt, stmt)}
	if len(grants.Columns) > 1 {
		return nil, fmt.Errorf("SHOW GRANTS FOR %s: unexpected columns %q", a, grants.Columns)
	}
	for _, r := range grants.Rows {
		if !strings.HasPrefix(r[0], "GRANT ") {
			return nil, fmt.Errorf("SHOW GRANTS FOR %s: unexpected answer", a)
		}
		out = append(out, newSecretStmt(r[0], r[0]))
	}
	return out, nil
}

// AccountGrants is an account's privileges as SHOW GRANTS reports them.
type AccountGrants struct {
	// Global are the privileges ON *.* (USAGE, which means none, left out),
	// upper-case, sorted; GRANT OPTION is listed when granted.
	Global []string
	// DB are the privileges ON `db`.* by database name, the same way.
	DB map[string][]string
	// Other are the grant lines this package does not manage (table,
	// column and routine privileges, roles, PROXY), as reported.
	Other []string
}

var (
	grantLineRE = regexp.MustCompile(`^GRANT (.+?) ON (\*\.\*|` + "`(?:[^`]|``)+`" + `\.\*|\S+) TO (.+)$`)
	privNameRE  = regexp.MustCompile(`^[A-Z][A-Z_ ]*[A-Z]$`)
)

// ParseGrants reads SHOW GRANTS output (ShowGrants) by statement shape:
// GRANT <privileges> ON *.* | `db`.* TO <account> [IDENTIFIED ...] [WITH
// GRANT OPTION]. Database names are unescaped (\_ \% \\). Lines of any other
// shape go to Other.
func ParseGrants(t Table) (AccountGrants, error) {
	g := AccountGrants{DB: map[string][]string{}}
	if len(t.Rows) > 0 && len(t.Columns) != 1 {
		return g, fmt.Errorf("grants: expected one column, got %q", t.Columns)
	}
	for _, r := range t.Rows {
		line := r[0]
		m := grantLineRE.FindStringSubmatch(line)
		if m == nil || strings.Contains(m[1], "(") {
			g.Other = append(g.Other, line)
			continue
		}
		privs := splitPrivileges(m[1])
		if privs == nil {
			g.Other = append(g.Other, line)
			continue
		}
		if strings.Contains(m[3], "WITH GRANT OPTION") {
			privs = append(privs, "GRANT OPTION")
		}
		switch target := m[2]; {
		case target == "*.*":
			g.Global = mergePrivs(g.Global, privs)
		case strings.HasPrefix(target, "`") && strings.HasSuffix(target, "`.*"):
			db := unescapeGrantDB(strings.ReplaceAll(target[1:len(target)-3], "``", "`"))
			g.DB[db] = mergePrivs(g.DB[db], privs)
		default:
			g.Other = append(g.Other, line)
		}
	}
	return g, nil
}

// splitPrivileges splits "SELECT, INSERT" or MySQL's "BINLOG_ADMIN,XA_RECOVER_ADMIN";
// nil when a part is not a privilege name (a role grant).
func splitPrivileges(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.Join(strings.Fields(strings.ToUpper(p)), " ")
		if !privNameRE.MatchString(p) {
			return nil
		}
		if p == "USAGE" {
			continue
		}
		out = append(out, p)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func mergePrivs(a, b []string) []string {
	m := map[string]bool{}
	for _, p := range a {
		m[p] = true
	}
	for _, p := range b {
		m[p] = true
	}
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func unescapeGrantDB(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\_%`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// expandAll replaces ALL PRIVILEGES by the database privileges it stands
// for, so that sets can be compared.
func (d Dialect) expandAll(privs []string) map[string]bool {
	m := map[string]bool{}
	for _, p := range privs {
		if p == "ALL PRIVILEGES" || p == "ALL" {
			for _, q := range d.dbPrivileges {
				if q != "ALL PRIVILEGES" {
					m[q] = true
				}
			}
			continue
		}
		m[p] = true
	}
	return m
}

// GrantPlan is what it takes to bring an account's privileges to the
// wanted ones.
type GrantPlan struct {
	// Stmts grant what is missing first, then revoke what is too much, so
	// the account never holds less than both in between.
	Stmts []Stmt
	// Changes describe each difference for an operator ("app@%: SELECT on
	// `shop` is missing").
	Changes []string
}

// PlanGrants compares an account's grants with what it should hold:
// wantGlobal ON *.* (nil for none) and, when database is not empty,
// wantDB ON database.*. Privileges on other databases and global ones not
// wanted are revoked: the accounts this package manages hold nothing but
// what the configuration says. Grants of other shapes (Other) are left
// alone.
func (d Dialect) PlanGrants(a Account, cur AccountGrants, wantGlobal []string, database string, wantDB []string) (GrantPlan, error) {
	if err := d.validAccount("account", a); err != nil {
		return GrantPlan{}, err
	}
	var p GrantPlan
	var grants, revokes []Stmt

	// Global privileges.
	curG := map[string]bool{}
	for _, x := range cur.Global {
		curG[x] = true
	}
	var missingG, extraG []string
	for _, x := range wantGlobal {
		if !curG[x] {
			missingG = append(missingG, x)
		}
	}
	for _, x := range cur.Global {
		if !slices.Contains(wantGlobal, x) {
			extraG = append(extraG, x)
		}
	}
	if len(missingG) > 0 {
		for _, x := range missingG {
			if !privNameRE.MatchString(x) {
				return GrantPlan{}, fmt.Errorf("invalid privilege %q", x)
			}
		}
		grants = append(grants, newStmt("GRANT "+strings.Join(missingG, ", ")+" ON *.* TO "+a.SQL()))
		p.Changes = append(p.Changes, fmt.Sprintf("%s lacks %s on *.*", a, strings.Join(missingG, ", ")))
	}
	if len(extraG) > 0 {
		s, err := revokeReported(a, "*.*", extraG)
		if err != nil {
			return GrantPlan{}, err
		}
		revokes = append(revokes, s)
		p.Changes = append(p.Changes, fmt.Sprintf("%s holds %s on *.*, which the configuration does not give it", a, strings.Join(extraG, ", ")))
	}

	// Database privileges.
	dbs := make([]string, 0, len(cur.DB))
	for db := range cur.DB {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	for _, db := range dbs {
		if db == database {
			continue
		}
		if len(cur.DB[db]) == 0 {
			continue
		}
		if err := ValidateDatabaseName("database", db); err != nil {
			// A database name this package would not create (or a
			// wildcard grant): report, do not touch.
			p.Changes = append(p.Changes, fmt.Sprintf("%s holds privileges on %q, which the provider does not manage", a, db))
			continue
		}
		s, err := revokeReported(a, grantDBName(db)+".*", cur.DB[db])
		if err != nil {
			return GrantPlan{}, err
		}
		revokes = append(revokes, s)
		p.Changes = append(p.Changes, fmt.Sprintf("%s holds %s on `%s`, which the configuration does not give it", a, strings.Join(cur.DB[db], ", "), db))
	}
	if database != "" {
		want, err := d.NormalizePrivileges("privileges", wantDB)
		if err != nil {
			return GrantPlan{}, err
		}
		have := d.expandAll(cur.DB[database])
		wantSet := d.expandAll(want)
		var missing, extra []string
		for x := range wantSet {
			if !have[x] {
				missing = append(missing, x)
			}
		}
		for _, x := range cur.DB[database] {
			if x == "GRANT OPTION" {
				extra = append(extra, x)
			}
		}
		for x := range have {
			if !wantSet[x] && x != "GRANT OPTION" {
				extra = append(extra, x)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			privs := missing
			if slices.Equal(want, []string{"ALL PRIVILEGES"}) {
				privs = want
			}
			s, err := d.GrantDatabase(a, database, privs)
			if err != nil {
				return GrantPlan{}, err
			}
			grants = append(grants, s)
			p.Changes = append(p.Changes, fmt.Sprintf("%s lacks %s on `%s`", a, strings.Join(missing, ", "), database))
		}
		if len(extra) > 0 {
			s, err := revokeReported(a, grantDBName(database)+".*", extra)
			if err != nil {
				return GrantPlan{}, err
			}
			revokes = append(revokes, s)
			p.Changes = append(p.Changes, fmt.Sprintf("%s holds %s on `%s`, more than configured", a, strings.Join(extra, ", "), database))
		}
	}
	p.Stmts = append(grants, revokes...)
	return p, nil
}

// revokeReported revokes privileges as the server reported them (validated
// as privilege names: they become SQL keywords).
func revokeReported(a Account, target string, privs []string) (Stmt, error) {
	for _, x := range privs {
		if !privNameRE.MatchString(x) {
			return Stmt{}, fmt.Errorf("%s: cannot revoke %q: not a privilege name", a, x)
		}
	}
	return newStmt("REVOKE " + strings.Join(privs, ", ") + " ON " + target + " FROM " + a.SQL()), nil
}

// DatabasesQuery lists every database of the server (system schemas
// included), as a name column.
func (d Dialect) DatabasesQuery() Stmt {
	return newStmt("SELECT schema_name AS name FROM information_schema.schemata ORDER BY schema_name")
}
