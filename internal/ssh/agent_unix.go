// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

//go:build !windows

package ssh

import (
	"net"
	"time"
)

// dialAgent connects to the agent's Unix socket (Linux, macOS where launchd
// sets SSH_AUTH_SOCK, the BSDs).
func dialAgent(addr string, timeout time.Duration) (agentConn, error) {
	return net.DialTimeout("unix", addr, timeout)
}
