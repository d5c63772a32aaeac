// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
)

// LocalRunner runs commands on this machine through /bin/sh, exactly as an
// SSH server would receive them (the argv joined with Join). It exists for
// unit tests of code that composes commands and scripts; acceptance tests use
// real hosts.
type LocalRunner struct{}

var _ Runner = LocalRunner{}

// Run implements Runner.
func (LocalRunner) Run(ctx context.Context, cmd Cmd) (Result, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", Join(cmd.Argv))
	var stdout, stderr bytes.Buffer
	c.Stdin = cmd.Stdin
	if cmd.Stdout != nil {
		c.Stdout = cmd.Stdout
	} else {
		c.Stdout = &stdout
	}
	c.Stderr = &stderr
	err := c.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.ExitStatus = ee.ExitCode()
			return res, &ExitError{Argv: cmd.Argv, ExitStatus: res.ExitStatus, Stderr: stderr.String()}
		}
		return res, err
	}
	return res, nil
}
