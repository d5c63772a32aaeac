// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"strings"
	"testing"
)

// Sudoers rules for the lab's deploy user (SetSudo).
const (
	// SudoNoPassword: sudo never asks (how most lab hosts start).
	SudoNoPassword = "deploy ALL=(ALL:ALL) NOPASSWD: ALL"
	// SudoPasswordButEnv: sudo asks a password for everything except env,
	// the command the provider wraps every privileged command in: the
	// detection (`sudo -n true`, `sudo -v`) sees a password policy, the
	// commands themselves run without one (as under any rule that makes
	// some commands NOPASSWD).
	SudoPasswordButEnv = "deploy ALL=(ALL:ALL) ALL\ndeploy ALL=(root) NOPASSWD: /usr/bin/env"
	// SudoPassword: sudo asks a password for everything.
	SudoPassword = "deploy ALL=(ALL:ALL) ALL"
)

// SetSudo gives the host's deploy user the sudoers rules and the login
// password (for sudo to check), until the end of the test, when the lab's
// own rules and password come back.
func (h Host) SetSudo(t testing.TB, rules, password string) {
	t.Helper()
	shadow := strings.Split(strings.TrimSpace(h.Exec(t, "getent", "shadow", "deploy")), ":")
	rulesBefore := h.Exec(t, "cat", "/etc/sudoers.d/deploy")
	if len(shadow) < 2 {
		t.Fatalf("%s: no shadow entry for deploy", h.Name)
	}
	t.Cleanup(func() {
		h.ExecInput(t, rulesBefore, "sh", "-c", "cat > /etc/sudoers.d/deploy")
		h.Exec(t, "usermod", "-p", shadow[1], "deploy")
	})
	h.ExecInput(t, "deploy:"+password+"\n", "chpasswd")
	h.ExecInput(t, rules+"\n", "sh", "-c", "cat > /etc/sudoers.d/deploy.new && chmod 440 /etc/sudoers.d/deploy.new && "+
		"visudo -cq -f /etc/sudoers.d/deploy.new && mv /etc/sudoers.d/deploy.new /etc/sudoers.d/deploy")
}
