// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

//go:build !windows

package sshtest

import (
	"os/exec"
	"syscall"
)

var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1,
}

// shellCommand runs line with /bin/sh in a process group of its own, so that
// a signal or a kill reaches the children it starts too.
func shellCommand(line string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// signalGroup sends the named SSH signal ("TERM", "KILL", ...) to the
// command's process group; unknown names are ignored.
func signalGroup(cmd *exec.Cmd, name string) {
	if sig, ok := signals[name]; ok {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}

// signalName is the SSH name of the signal that ended the command, if one
// did ("KILL" for one without a name here).
func signalName(ee *exec.ExitError) (string, bool) {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	name := "KILL"
	for n, sig := range signals {
		if sig == ws.Signal() {
			name = n
		}
	}
	return name, true
}
