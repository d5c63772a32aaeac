// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"strings"
)

// A small reference tokenizer for the part of MySQL/MariaDB lexing that
// decides where a literal ends and where a statement ends, written from the
// manuals ("String Literals", "Comments", the mysql client's statement
// splitting): quoted strings with backslash escapes (unless
// NO_BACKSLASH_ESCAPES) and doubled quotes, backtick identifiers with doubled
// backticks, -- , # and /* */ comments, and ; as the statement terminator.
// Tests use it to check that what the builders emit is one token per value
// and one statement per builder call.

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokIdent
	tokPunct
	tokEnd // ';'
)

type token struct {
	kind tokKind
	text string // decoded value for strings and identifiers
}

func (t token) String() string { return fmt.Sprintf("%d:%q", t.kind, t.text) }

// sqlTokens splits a script into statements of tokens, for a session in
// utf8mb4. noBackslash selects NO_BACKSLASH_ESCAPES lexing.
func sqlTokens(src string, noBackslash bool) ([][]token, error) {
	return sqlTokensIn(src, SessionCharset, noBackslash)
}

// sqlTokensIn is sqlTokens for a session that starts in character set cs
// (what a host's option files may have made of it): a multi-byte character
// is one unit, whatever bytes it holds, as in the servers' lexers
// (my_ismbchar), and a SET NAMES statement switches the charset for the
// statements after it, as it does for the server and for the client's own
// statement splitting.
func sqlTokensIn(src, cs string, noBackslash bool) ([][]token, error) {
	var stmts [][]token
	var cur []token
	i := 0
	for i < len(src) {
		c := src[i]
		if n := mbLen(cs, src[i:]); n > 1 {
			// A multi-byte character outside a literal is part of a word.
			cur = append(cur, token{tokWord, src[i : i+n]})
			i += n
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "-- ")):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = len(src)
			} else {
				i += j + 1
			}
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated comment at %d", i)
			}
			i += 2 + j + 2
		case c == '\'' || c == '"':
			v, n, err := lexString(src[i:], c, cs, noBackslash)
			if err != nil {
				return nil, fmt.Errorf("at %d: %w", i, err)
			}
			cur = append(cur, token{tokString, v})
			i += n
		case c == '`':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, fmt.Errorf("unterminated identifier at %d", i)
				}
				if src[j] == '`' {
					if j+1 < len(src) && src[j+1] == '`' {
						b.WriteByte('`')
						j += 2
						continue
					}
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			cur = append(cur, token{tokIdent, b.String()})
			i = j
		case c == ';':
			if len(cur) == 3 && strings.EqualFold(cur[0].text, "SET") && strings.EqualFold(cur[1].text, "NAMES") {
				cs = strings.ToLower(cur[2].text)
			}
			stmts = append(stmts, cur)
			cur = nil
			i++
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			cur = append(cur, token{tokWord, src[i:j]})
			i = j
		default:
			cur = append(cur, token{tokPunct, string(c)})
			i++
		}
	}
	if len(cur) > 0 {
		return nil, fmt.Errorf("statement without terminator: %v", cur)
	}
	return stmts, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '@' || c == '$' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// lexString reads one quoted string starting at s[0] == q and returns its
// value and length in s.
func lexString(s string, q byte, cs string, noBackslash bool) (string, int, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		if n := mbLen(cs, s[i:]); n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		switch {
		case c == '\\' && !noBackslash:
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			e := s[i+1]
			switch e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(0x1a)
			case '%', '_':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
			i += 2
		case c == q:
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// mbLen is the length of the multi-byte character at the start of s in
// character set cs, or 1 (a single byte, or not a valid multi-byte
// character: the servers then read the byte alone). Only the charsets whose
// multi-byte characters can hold a byte below 0x80 matter (their trail byte
// may be 0x5C or other ASCII); in utf8mb4, latin1, ascii, binary every byte
// of a multi-byte character is 0x80 or above, so reading them one by one
// finds the same quotes and backslashes.
func mbLen(cs, s string) int {
	if len(s) < 2 {
		return 1
	}
	in := func(b byte, lo, hi byte) bool { return b >= lo && b <= hi }
	c, d := s[0], s[1]
	switch cs {
	case "gbk":
		if in(c, 0x81, 0xfe) && (in(d, 0x40, 0x7e) || in(d, 0x80, 0xfe)) {
			return 2
		}
	case "gb18030":
		if in(c, 0x81, 0xfe) && len(s) >= 4 && in(d, 0x30, 0x39) && in(s[2], 0x81, 0xfe) && in(s[3], 0x30, 0x39) {
			return 4
		}
		if in(c, 0x81, 0xfe) && (in(d, 0x40, 0x7e) || in(d, 0x80, 0xfe)) {
			return 2
		}
	case "big5":
		if in(c, 0xa1, 0xf9) && (in(d, 0x40, 0x7e) || in(d, 0xa1, 0xfe)) {
			return 2
		}
	case "sjis", "cp932":
		if (in(c, 0x81, 0x9f) || in(c, 0xe0, 0xfc)) && (in(d, 0x40, 0x7e) || in(d, 0x80, 0xfc)) {
			return 2
		}
	}
	return 1
}
