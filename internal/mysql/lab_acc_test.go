// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
)

// labNodes connects, over SSH with sudo as the provider does, to the lab's
// first MariaDB host (db1) and first MySQL host (mysql1).
func labNodes(t *testing.T) map[string]Node {
	t.Helper()
	inv := acctest.RemoteLab(t)
	nodes := map[string]Node{}
	for _, name := range []string{"db1", "mysql1"} {
		h := inv.Host(t, name)
		c := acctest.Connect(t, inv.SSHConfig(h))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		srv, err := DetectServer(ctx, c)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := srv.Dialect()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %s", name, srv)
		nodes[name] = Node{Host: name, Runner: c, Dialect: d}
	}
	if nodes["db1"].Dialect.Flavor != MariaDB || nodes["mysql1"].Dialect.Flavor != MySQL {
		t.Fatalf("lab flavors: db1 %s, mysql1 %s; want MariaDB and MySQL", nodes["db1"].Dialect.Flavor, nodes["mysql1"].Dialect.Flavor)
	}
	return nodes
}

// TestAccLabQuoting: every hostile string quoteString writes reads back as
// itself from MariaDB 10.11 and MySQL 9, through the real client over SSH,
// and stays one token under NO_BACKSLASH_ESCAPES.
func TestAccLabQuoting(t *testing.T) {
	checkQuoting(t, labNodes(t))
}

// TestAccLabAccounts: the account and grant statements of both dialects,
// with a hostile password, on the real servers.
func TestAccLabAccounts(t *testing.T) {
	nodes := labNodes(t)
	for _, name := range []string{"db1", "mysql1"} {
		t.Run(name, func(t *testing.T) { checkAccounts(t, nodes[name]) })
	}
}
