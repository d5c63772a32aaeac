// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import "strings"

// QuoteString returns s as an SQL string literal.
//
// The literal is meant for the session that BuildScript's preamble sets up
// (sql_mode without NO_BACKSLASH_ESCAPES, utf8mb4): there it reads back as
// exactly s. It is also built to stay ONE token if that preamble were ever
// missing and the server ran with NO_BACKSLASH_ESCAPES: a quote is always
// doubled (” works in both modes, never \'), and every backslash is doubled,
// so no backslash can ever escape the closing quote. (Under
// NO_BACKSLASH_ESCAPES the value would read back wrong, but nothing after it
// could become a statement.) Control characters that the mysql client or a
// log line could trip over are written as escapes: NUL \0, LF \n, CR \r,
// Ctrl-Z \Z, so a literal never spans lines.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// QuoteIdent returns name as a backtick-quoted identifier, doubling inner
// backticks. Names are validated before they get here (no NUL, length); the
// quoting alone already keeps any name one token.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// grantDBName quotes a database name for GRANT/REVOKE ... ON db.*, where
// `_` and `%` are wildcards: a grant on `my_db` would also cover `myXdb`.
// Escaping them with a backslash (documented by both flavors) makes the grant
// name exactly one database.
func grantDBName(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`)
	return QuoteIdent(r.Replace(name))
}

// Account is a 'user'@'host' account.
type Account struct {
	User string
	Host string
}

// SQL returns the account as it is written in CREATE USER, GRANT and
// DROP USER: two string literals joined by @.
func (a Account) SQL() string { return QuoteString(a.User) + "@" + QuoteString(a.Host) }

func (a Account) String() string { return a.User + "@" + a.Host }

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = QuoteString(s)
	}
	return strings.Join(q, ", ")
}
