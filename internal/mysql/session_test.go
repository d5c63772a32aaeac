// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"go/ast"
	"go/parser"
	"go/printer"
	gotoken "go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlySessionScriptsReachAClient makes the charset pin an invariant
// instead of a convention: in this package's code, every command given a
// stdin gets either a script rendered by sessionScript (directly or through
// Dialect.Script, both starting with SET NAMES utf8mb4) or the dump stream
// of seeding (written by the dump tool, which starts with its own SET NAMES
// in the charset DumpArgv pins). A new caller that feeds a client its own
// bytes, where quoteString's literals could be read in another charset,
// fails here.
func TestOnlySessionScriptsReachAClient(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"seed.go:pr": true} // the dump stream
	fset := gotoken.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if id, ok := kv.Key.(*ast.Ident); !ok || id.Name != "Stdin" {
				return true
			}
			found++
			var b strings.Builder
			_ = printer.Fprint(&b, fset, kv.Value)
			v := b.String()
			if allowed[name+":"+v] || strings.Contains(v, "sessionScript(") || strings.Contains(v, ".Script(") {
				return true
			}
			t.Errorf("%s: a command's stdin is %s, not a script rendered by sessionScript/Dialect.Script: "+
				"SQL must reach a client only in a session pinned to %s", fset.Position(kv.Pos()), v, SessionCharset)
			return true
		})
	}
	if found < 3 {
		t.Errorf("found only %d stdin fields: the check no longer sees the package's commands", found)
	}
}

// TestScriptsStartPinned: every renderer's first statement is SET NAMES
// utf8mb4, and every client argv pins the client's charset too.
func TestScriptsStartPinned(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{mustDialect(t, MariaDB, V(10, 11, 18)), mustDialect(t, MySQL, V(9, 7, 0)), mustDialect(t, MySQL, V(8, 0, 21))} {
		for name, script := range map[string][]byte{
			"Script":        d.Script(ScriptOptions{}),
			"Script(opts)":  d.Script(ScriptOptions{NoBinlog: true, LockWaitTimeout: 1}, d.StopReplica()),
			"sessionScript": sessionScript(ServerQuery),
		} {
			if !strings.HasPrefix(string(script), "SET NAMES utf8mb4;\n") {
				t.Errorf("%s %s: script starts %q, want SET NAMES utf8mb4 first", d.Flavor, name, string(script))
			}
		}
		dump, err := d.DumpArgv([]string{"app"})
		if err != nil {
			t.Fatal(err)
		}
		for name, argv := range map[string][]string{"client": d.ClientArgv(), "probe": ProbeClientArgv(), "load": d.LoadDumpArgv(), "dump": dump} {
			if !strings.Contains(strings.Join(argv, " "), "--default-character-set=utf8mb4") {
				t.Errorf("%s %s argv %q does not pin --default-character-set=utf8mb4", d.Flavor, name, argv)
			}
			if name == "dump" {
				continue
			}
			// The last --init-command wins: it must be the pin, so that a
			// host option file's init-command never runs.
			var last string
			for _, a := range argv {
				if v, ok := strings.CutPrefix(a, "--init-command="); ok {
					last = v
				}
			}
			if !strings.HasPrefix(last, "SET NAMES utf8mb4") {
				t.Errorf("%s %s argv %q: last --init-command is %q, want it to start with SET NAMES utf8mb4", d.Flavor, name, argv, last)
			}
		}
	}
}
