// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

//go:build windows

package sshtest

import "os/exec"

// shellCommand runs line with the sh found on PATH (Git for Windows, MSYS2).
// Windows has no POSIX shell of its own, and the provider's commands are
// POSIX shell lines: the tests that run commands are for the Linux build;
// the Windows build of this server is for handshakes, host keys and
// authentication (agents on named pipes).
func shellCommand(line string) *exec.Cmd {
	return exec.Command("sh", "-c", line)
}

// signalGroup: Windows has no signals to forward; KILL ends the process
// (not its children: there are no process groups to signal).
func signalGroup(cmd *exec.Cmd, name string) {
	if name == "KILL" {
		_ = cmd.Process.Kill()
	}
}

func signalName(*exec.ExitError) (string, bool) { return "", false }
