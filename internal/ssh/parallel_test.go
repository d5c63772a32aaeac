// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/foobar/terraform-provider-foobar/internal/remote"
	"github.com/foobar/terraform-provider-foobar/internal/ssh/sshtest"
)

// terraformParallelism is Terraform's default -parallelism: it runs that
// many resource operations at once, and all of them may be on one host.
const terraformParallelism = 10

// With the default settings, one host's pooled connection runs as many
// commands at once as Terraform runs operations: none waits for another
// to end. Each command waits (in the shell, on the server) until all of
// them have started; a client that held some back would leave the others
// waiting until their bail-out, and the server would never see them all
// at once.
func TestPoolDoesNotSerialiseTerraformParallelism(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshtest.Options{HostKeys: hostKeys(t, "ed25519")})
	c := mustGet(t, newPool(t), f.cfg)
	dir := t.TempDir()
	// Counted with a glob (no process per look); the bail-out after 100
	// looks makes a regression fail instead of hang.
	const barrier = `dir=$1 want=$3 i=0
touch "$dir/$2"
while :; do
  set -- "$dir"/*
  if [ "$#" -ge "$want" ] || [ "$i" -ge 100 ]; then exit 0; fi
  i=$((i+1)); sleep 0.2
done`
	var wg sync.WaitGroup
	for i := range terraformParallelism {
		wg.Go(func() {
			argv := remote.Script(barrier, dir, strconv.Itoa(i), strconv.Itoa(terraformParallelism))
			if _, err := c.Run(context.Background(), remote.Cmd{Argv: argv}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.srv.MaxConcurrentSessions(); got < terraformParallelism {
		t.Errorf("the server saw at most %d commands at once, want %d: the pool serialises what Terraform runs in parallel", got, terraformParallelism)
	}
	if n := f.srv.Handshakes(); n != 1 {
		t.Errorf("%d handshakes, want 1", n)
	}
}
