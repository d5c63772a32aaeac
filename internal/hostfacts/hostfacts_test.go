// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package hostfacts

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

func TestParse(t *testing.T) {
	t.Parallel()
	outs := []commandOutput{
		{Stdout: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n", OK: true},
		{Stdout: "web1\n", OK: true},
		{Stdout: "6.1.0\n", OK: true},
		{Stdout: "x86_64\n", OK: true},
		{Stdout: "2\n", OK: true},
		{Stdout: "HAProxy version 2.6.12-1+deb12u3 2025/10/03 - https://haproxy.org/\n", OK: true},
		{Stderr: "nginx version: nginx/1.22.1\n", OK: true},
		{Stdout: "/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n", OK: true},
	}
	got := parse(outs)
	want := Facts{
		Hostname: "web1", OSID: "debian", OSVersionID: "12", OSPrettyName: "Debian GNU/Linux 12 (bookworm)",
		Kernel: "6.1.0", Architecture: "x86_64", CPUs: 2,
		Services: map[string]string{"haproxy": "2.6.12-1+deb12u3", "nginx": "1.22.1", "mariadb": "10.11.18-MariaDB-0+deb12u1"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parse (-want +got):\n%s", d)
	}
}

func TestParseMissingServices(t *testing.T) {
	t.Parallel()
	outs := make([]commandOutput, len(commands))
	outs[1] = commandOutput{Stdout: "bare\n", OK: true}
	outs[5] = commandOutput{Stderr: "sh: 1: haproxy: not found", OK: false}
	got := parse(outs)
	if got.Hostname != "bare" || len(got.Services) != 0 {
		t.Errorf("got %+v, want hostname bare and no services", got)
	}
}

// TestGatherLocal runs the real probe on this machine through a local
// runner: the commands must exist and the output must parse.
func TestGatherLocal(t *testing.T) {
	t.Parallel()
	f, err := Gather(context.Background(), remote.LocalRunner{})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if f.Hostname != host || f.CPUs < 1 || f.OSID == "" || f.Init == "" {
		t.Errorf("implausible facts of this machine: %+v (hostname %q)", f, host)
	}
}
