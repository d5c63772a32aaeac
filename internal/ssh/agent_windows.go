// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

//go:build windows

package ssh

import (
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// dialAgent connects to the agent: a named pipe (the OpenSSH agent service,
// Pageant 0.75+), or else a Unix socket path (AF_UNIX, Windows 10 1803+).
func dialAgent(addr string, timeout time.Duration) (agentConn, error) {
	if !isNamedPipe(addr) {
		return net.DialTimeout("unix", addr, timeout)
	}
	return openPipe(addr, timeout)
}

// openPipe opens a named pipe's client end. FILE_FLAG_OVERLAPPED puts the
// handle on Go's I/O poller, so SetDeadline bounds reads and writes as on a
// socket. While every instance of the pipe is busy (ERROR_PIPE_BUSY; the
// server has not yet made a new one), it tries again until timeout.
func openPipe(addr string, timeout time.Duration) (agentConn, error) {
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(addr, os.O_RDWR|windows.FILE_FLAG_OVERLAPPED, 0)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, windows.ERROR_PIPE_BUSY) || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
