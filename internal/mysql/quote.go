// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import "strings"

// SessionCharset is the character set of every SQL session the provider
// opens, and the only one quoteString writes literals for. It is pinned
// twice, so that nothing on the host can change it: the client runs with
// --default-character-set=utf8mb4 (clientFlags; a command-line option wins
// over every option file), and every script starts with SET NAMES utf8mb4
// (sessionScript), which comes after anything the host's option files make
// the client or server do on connect (a [mysql] init-command = "SET NAMES
// gbk", a [mysqld] skip-character-set-client-handshake with a gbk server)
// and also switches the client's own statement splitting back (both clients
// follow the server's session-state tracking of character_set_client).
const SessionCharset = "utf8mb4"

// quoteString returns s as an SQL string literal for a session in
// SessionCharset. It is unexported on purpose: its literals are only
// correct inside a script that sessionScript renders (the only renderer of
// statements; a test checks that no other stdin reaches a client), because
// doubling backslashes byte by byte is only safe in a character set in
// which no multi-byte character contains 0x5C or 0x27. UTF-8 is one (every
// byte of a multi-byte sequence is 0x80 or above); GBK, Big5, GB18030,
// Shift-JIS and CP932 are not (a lead byte followed by 0x5C is one
// character there, so "\'" becomes "character + '" and the literal ends
// early: issue 13). The fuzz tests lex the rendered scripts in each of
// those charsets as the session's starting charset.
//
// The literal is meant for the session that the script's preamble sets up
// (SET NAMES utf8mb4, sql_mode without NO_BACKSLASH_ESCAPES): there it reads back as
// exactly s. It is also built to stay ONE token if that preamble were ever
// missing and the server ran with NO_BACKSLASH_ESCAPES: a quote is always
// doubled (” works in both modes, never \'), and every backslash is doubled,
// so no backslash can ever escape the closing quote. (Under
// NO_BACKSLASH_ESCAPES the value would read back wrong, but nothing after it
// could become a statement.) Control characters that the mysql client or a
// log line could trip over are written as escapes: NUL \0, LF \n, CR \r,
// Ctrl-Z \Z, so a literal never spans lines.
func quoteString(s string) string {
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
func (a Account) SQL() string { return quoteString(a.User) + "@" + quoteString(a.Host) }

func (a Account) String() string { return a.User + "@" + a.Host }

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quoteString(s)
	}
	return strings.Join(q, ", ")
}
