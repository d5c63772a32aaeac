// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"errors"
	"io"
	"strings"
	"time"
)

// WindowsAgentPipe is the named pipe of the OpenSSH agent service that
// ships with Windows 10 and later (ssh-agent.exe): the agent used on Windows
// when SSH_AUTH_SOCK is not set, as Windows' own ssh.exe does.
const WindowsAgentPipe = `\\.\pipe\openssh-ssh-agent`

// agentConn is the connection to an ssh-agent: a Unix socket (net.Conn) or,
// on Windows, a named pipe (*os.File opened for overlapped I/O, so that
// deadlines work on it too).
type agentConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

// agentAddress is where the agent is reached on goos: the configured socket,
// else $SSH_AUTH_SOCK (sshAuthSock), else on Windows the OpenSSH agent's
// named pipe. Elsewhere an agent without SSH_AUTH_SOCK cannot be found.
//
// On Windows either may name a named pipe (`\\.\pipe\...`, as Pageant 0.75+
// and the OpenSSH agent serve) or a Unix socket path (AF_UNIX, Windows 10
// 1803+, as Git for Windows' ssh-agent and WSL bridges use).
func agentAddress(goos, configured, sshAuthSock string) (string, error) {
	switch {
	case configured != "":
		return configured, nil
	case sshAuthSock != "":
		return sshAuthSock, nil
	case goos == "windows":
		return WindowsAgentPipe, nil
	default:
		return "", errors.New("SSH_AUTH_SOCK is not set and no agent socket is configured")
	}
}

// isNamedPipe reports whether a Windows path names a named pipe: the local
// `\\.\pipe\` namespace, written with either separator, any case.
func isNamedPipe(path string) bool {
	if len(path) < 9 {
		return false
	}
	p := strings.ReplaceAll(path[:9], "/", `\`)
	return strings.EqualFold(p, `\\.\pipe\`)
}
