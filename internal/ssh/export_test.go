// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import "context"

// CheckSudo runs the client's sudo detection on its current connection (a
// probe the first time, the cached answer afterwards), for the connection
// benchmark: what a connection costs before its first privileged command.
func CheckSudo(ctx context.Context, c *Client) error {
	cn, err := c.pool.connect(ctx, c.cfg)
	if err != nil {
		return err
	}
	_, err = c.sudoMode(ctx, cn)
	return err
}
