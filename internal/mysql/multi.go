// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// sectionColumn names the marker result set QueryMulti puts after every
// statement.
const sectionColumn = "foobar_section"

// QueryMulti runs several statements in one client invocation (one round
// trip) and returns one Table per statement. After each statement the
// script selects a random nonce; the client's batch output escapes newlines
// inside values, so the two lines "foobar_section" and the nonce can only be
// that marker, and the output splits into one result set per statement. A
// statement that prints nothing (SHOW SLAVE STATUS on a server that is not a
// replica, a SET) gives an empty Table.
func (n Node) QueryMulti(ctx context.Context, opts ScriptOptions, stmts ...Stmt) ([]Table, error) {
	q, err := newMultiQuery(stmts...)
	if err != nil {
		return nil, err
	}
	out, err := n.run(ctx, opts, q.all...)
	if err != nil {
		return nil, err
	}
	return q.tables(n.Host, out)
}

// multiQuery is QueryMulti's statements with their section markers: run
// all in one client invocation, then cut the output with tables.
type multiQuery struct {
	stmts []Stmt
	all   []Stmt
	nonce string
}

func newMultiQuery(stmts ...Stmt) (multiQuery, error) {
	nonce, err := newNonce()
	if err != nil {
		return multiQuery{}, err
	}
	marker := newStmt("SELECT " + quoteString(nonce) + " AS " + sectionColumn)
	all := make([]Stmt, 0, 2*len(stmts))
	for _, s := range stmts {
		all = append(all, s, marker)
	}
	return multiQuery{stmts: stmts, all: all, nonce: nonce}, nil
}

// tables parses the client's output of q.all, one Table per statement.
func (q multiQuery) tables(host string, out []byte) ([]Table, error) {
	parts, err := splitSections(out, q.nonce, len(q.stmts))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	tables := make([]Table, len(parts))
	for i, p := range parts {
		if tables[i], err = ParseBatch(p); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", host, q.stmts[i], err)
		}
	}
	return tables, nil
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random marker: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// splitSections cuts the client's output at the marker result sets.
func splitSections(out []byte, nonce string, want int) ([][]byte, error) {
	sep := []byte(sectionColumn + "\n" + nonce + "\n")
	var parts [][]byte
	rest := out
	for len(parts) < want {
		i := bytes.Index(rest, sep)
		// The marker starts a line: at the start of the output or after a
		// newline.
		for i > 0 && rest[i-1] != '\n' {
			j := bytes.Index(rest[i+1:], sep)
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			return nil, fmt.Errorf("client output has %d of %d result sets (truncated?)", len(parts), want)
		}
		parts = append(parts, rest[:i])
		rest = rest[i+len(sep):]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("client output has %d unexpected bytes after the last result set", len(rest))
	}
	return parts, nil
}
