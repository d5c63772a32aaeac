// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import "testing"

// TestAgentByDefault: the agent is on by default where one can be found
// without configuration: SSH_AUTH_SOCK anywhere, the OpenSSH agent's named
// pipe on Windows.
func TestAgentByDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		goos string
		sock bool
		want bool
	}{
		{"linux", true, true},
		{"linux", false, false},
		{"darwin", true, true}, // launchd sets SSH_AUTH_SOCK
		{"darwin", false, false},
		{"freebsd", false, false},
		{"windows", false, true}, // \\.\pipe\openssh-ssh-agent
		{"windows", true, true},
	}
	for _, tt := range tests {
		if got := agentByDefault(tt.goos, tt.sock); got != tt.want {
			t.Errorf("agentByDefault(%s, SSH_AUTH_SOCK set %v) = %v, want %v", tt.goos, tt.sock, got, tt.want)
		}
	}
}

// TestLoginName: a Windows account DOMAIN\user logs in as user.
func TestLoginName(t *testing.T) {
	t.Parallel()
	tests := []struct{ goos, account, want string }{
		{"windows", `CORP\op`, "op"},
		{"windows", `DESKTOP-1\op`, "op"},
		{"windows", "op", "op"},
		{"linux", "op", "op"},
		{"linux", `odd\name`, `odd\name`},
	}
	for _, tt := range tests {
		if got := loginName(tt.goos, tt.account); got != tt.want {
			t.Errorf("loginName(%s, %q) = %q, want %q", tt.goos, tt.account, got, tt.want)
		}
	}
}
