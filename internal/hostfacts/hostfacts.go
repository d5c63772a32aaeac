// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package hostfacts reads what an operator wants to know about a host before
// changing it: operating system, init system, CPUs, and which of the
// provider's services are installed in which version. One round trip.
package hostfacts

import (
	"context"
	"strconv"
	"strings"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// Facts describes one host.
type Facts struct {
	Hostname     string
	OSID         string // ID= of /etc/os-release ("debian"; /usr/lib/os-release when that is missing)
	OSVersionID  string // VERSION_ID= ("12"); empty on rolling releases such as sid
	OSPrettyName string
	Kernel       string
	Architecture string
	CPUs         int
	Init         apply.Init
	// Services maps haproxy, nginx, mariadb and mysql to the installed
	// version; a service that is not installed is absent.
	Services map[string]string
}

// Commands run by Gather, in this order.
var commands = [][]string{
	apply.OSReleaseArgv(),
	{"uname", "-n"},
	{"uname", "-r"},
	{"uname", "-m"},
	{"nproc"},
	haproxy.VersionArgv(),
	nginx.VersionArgv(),
	mysql.DaemonVersionArgv(),
}

// Gather reads the facts of the host behind r in one round trip.
func Gather(ctx context.Context, r remote.Runner) (Facts, error) {
	snap, err := apply.Probe(ctx, r, apply.ProbeRequest{Commands: commands})
	if err != nil {
		return Facts{}, err
	}
	outs := make([]commandOutput, len(snap.Commands))
	for i, c := range snap.Commands {
		outs[i] = commandOutput{Stdout: string(c.Stdout), Stderr: string(c.Stderr), OK: c.ExitStatus == 0}
	}
	f := parse(outs)
	f.Init = snap.Init
	return f, nil
}

type commandOutput struct {
	Stdout, Stderr string
	OK             bool
}

// parse turns the outputs of commands (same order) into Facts.
func parse(outs []commandOutput) Facts {
	f := Facts{Services: map[string]string{}}
	get := func(i int) (commandOutput, bool) {
		if i < len(outs) && outs[i].OK {
			return outs[i], true
		}
		return commandOutput{}, false
	}
	if o, ok := get(0); ok {
		osr := apply.ParseOSRelease(o.Stdout)
		f.OSID, f.OSVersionID, f.OSPrettyName = osr["ID"], osr["VERSION_ID"], osr["PRETTY_NAME"]
	}
	if o, ok := get(1); ok {
		f.Hostname = strings.TrimSpace(o.Stdout)
	}
	if o, ok := get(2); ok {
		f.Kernel = strings.TrimSpace(o.Stdout)
	}
	if o, ok := get(3); ok {
		f.Architecture = strings.TrimSpace(o.Stdout)
	}
	if o, ok := get(4); ok {
		f.CPUs, _ = strconv.Atoi(strings.TrimSpace(o.Stdout))
	}
	if o, ok := get(5); ok {
		if v, err := haproxy.ParseVersion(o.Stdout + o.Stderr); err == nil {
			f.Services["haproxy"] = v
		}
	}
	if o, ok := get(6); ok {
		if v, err := nginx.ParseVersion(o.Stderr + o.Stdout); err == nil {
			f.Services["nginx"] = v
		}
	}
	if o, ok := get(7); ok {
		if fl, v, err := mysql.ParseDaemonVersion(o.Stdout + o.Stderr); err == nil {
			switch fl {
			case mysql.MariaDB:
				f.Services["mariadb"] = v
			case mysql.MySQL:
				f.Services["mysql"] = v
			}
		}
	}
	return f
}
