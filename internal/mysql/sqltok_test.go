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

// sqlTokens splits a script into statements of tokens. noBackslash selects
// NO_BACKSLASH_ESCAPES lexing.
func sqlTokens(src string, noBackslash bool) ([][]token, error) {
	var stmts [][]token
	var cur []token
	i := 0
	for i < len(src) {
		c := src[i]
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
			v, n, err := lexString(src[i:], c, noBackslash)
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
func lexString(s string, q byte, noBackslash bool) (string, int, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
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
