// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// The lab (internal/acctest) is reached from Linux hosts only.

//go:build !windows

package ssh_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

// BenchmarkAccConnect is a measurement, not a test (make bench): what one
// new connection costs, against OpenSSH's client to the same lab host in
// the same run, in interleaved rounds (so that the machine's load touches
// every variant alike):
//
//   - openssh-true: `ssh -o BatchMode=yes host true` (TCP, key exchange,
//     host key check, auth, one session) — the baseline;
//   - openssh-sudo: `ssh ... host sudo -n true`, the same with the sudo
//     check the provider makes;
//   - provider: ssh.Dial (TCP, key exchange, host key check against the
//     same known_hosts, auth with the same key) and the sudo check, which
//     the provider makes once per connection, before its first privileged
//     command;
//   - provider-nosudo: ssh.Dial and one unprivileged `true`, the same work
//     as openssh-true.
//
// Ratios of medians are the result; the machine runs the lab too, so the
// absolute figures say little. Run it with -benchtime 1x.
func BenchmarkAccConnect(b *testing.B) {
	inv := acctest.Lab(b)
	h := inv.Host(b, "web1")
	cfg := inv.SSHConfig(h)
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		b.Fatalf("the OpenSSH client is needed as the baseline (tools/deps.sh installs openssh-client): %v", err)
	}
	opensshArgs := []string{"-q", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + inv.KnownHostsFile,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-F", "/dev/null", "-i", inv.PrivateKeyFile,
		"-p", fmt.Sprint(h.Port), inv.User + "@" + h.Address}
	openssh := func(cmd ...string) func() error {
		return func() error {
			out, err := exec.Command(sshPath, append(slices.Clone(opensshArgs), cmd...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("ssh %s: %w: %s", strings.Join(cmd, " "), err, out)
			}
			return nil
		}
	}
	provider := func(sudo bool) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := ssh.Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			if sudo {
				return ssh.CheckSudo(ctx, c)
			}
			_, err = c.Run(ctx, remote.Cmd{Argv: []string{"true"}, Unprivileged: true})
			return err
		}
	}
	variants := []struct {
		name string
		run  func() error
	}{
		{"openssh-true", openssh("true")},
		{"openssh-sudo", openssh("sudo", "-n", "true")},
		{"provider", provider(true)},
		{"provider-nosudo", provider(false)},
	}
	const rounds = 25
	b.ResetTimer()
	for range b.N {
		times := map[string][]time.Duration{}
		for round := range rounds + 2 {
			for _, v := range variants {
				start := time.Now()
				if err := v.run(); err != nil {
					b.Fatalf("%s: %v", v.name, err)
				}
				if round >= 2 { // the first rounds warm caches (binaries, keys)
					times[v.name] = append(times[v.name], time.Since(start))
				}
			}
		}
		s := map[string]acctest.Sample{}
		for _, v := range variants {
			s[v.name] = acctest.NewSample(times[v.name])
		}
		acctest.Report("connection set-up to %s, %d interleaved rounds:", h.Name, rounds)
		acctest.Report("  ratio provider (dial + sudo check) / openssh-true:            %.2f", s["provider"].Ratio(s["openssh-true"]))
		acctest.Report("  ratio provider (dial + sudo check) / openssh-sudo:            %.2f", s["provider"].Ratio(s["openssh-sudo"]))
		acctest.Report("  ratio provider-nosudo (dial + one session) / openssh-true:    %.2f", s["provider-nosudo"].Ratio(s["openssh-true"]))
		for _, v := range variants {
			acctest.Report("  %-16s %s", v.name, s[v.name])
			b.ReportMetric(float64(s[v.name].Median.Microseconds())/1000, v.name+"-ms")
		}
	}
}
