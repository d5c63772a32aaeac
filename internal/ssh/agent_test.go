// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import "testing"

// TestAgentAddress: where the agent is looked for, on every system, checked
// on any machine.
func TestAgentAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		goos, configured, sock, want, wantErr string
	}{
		{"linux", "", "/run/user/1000/ssh-agent.sock", "/run/user/1000/ssh-agent.sock", ""},
		{"linux", "/tmp/a.sock", "/run/x.sock", "/tmp/a.sock", ""},
		{"linux", "", "", "", "SSH_AUTH_SOCK is not set and no agent socket is configured"},
		{"darwin", "", "/private/tmp/com.apple.launchd.x/Listeners", "/private/tmp/com.apple.launchd.x/Listeners", ""},
		{"darwin", "", "", "", "SSH_AUTH_SOCK is not set and no agent socket is configured"},
		{"freebsd", "", "", "", "SSH_AUTH_SOCK is not set and no agent socket is configured"},
		// Windows: the OpenSSH agent service's pipe when nothing is set,
		// SSH_AUTH_SOCK (a pipe or a Unix socket path) when it is.
		{"windows", "", "", WindowsAgentPipe, ""},
		{"windows", "", `\\.\pipe\pageant.op.0123abcd`, `\\.\pipe\pageant.op.0123abcd`, ""},
		{"windows", "", `C:\Users\op\.ssh\agent.sock`, `C:\Users\op\.ssh\agent.sock`, ""},
		{"windows", `\\.\pipe\configured`, `\\.\pipe\x`, `\\.\pipe\configured`, ""},
	}
	for _, tt := range tests {
		got, err := agentAddress(tt.goos, tt.configured, tt.sock)
		switch {
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("%s, configured %q, SSH_AUTH_SOCK %q: error %v, want %q", tt.goos, tt.configured, tt.sock, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%s, configured %q, SSH_AUTH_SOCK %q: %q, %v; want %q", tt.goos, tt.configured, tt.sock, got, err, tt.want)
		}
	}
}

func TestIsNamedPipe(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		`\\.\pipe\openssh-ssh-agent`: true,
		`\\.\PIPE\pageant.op.abc`:    true,
		`//./pipe/openssh-ssh-agent`: true,
		`\\.\pipe\`:                  true,
		`\\.\pipe`:                   false,
		`\\server\pipe\x`:            false, // remote pipes are not agents
		`C:\Users\op\agent.sock`:     false,
		`/tmp/ssh-XXXX/agent.123`:    false,
		``:                           false,
	} {
		if got := isNamedPipe(path); got != want {
			t.Errorf("isNamedPipe(%q) = %v, want %v", path, got, want)
		}
	}
}
