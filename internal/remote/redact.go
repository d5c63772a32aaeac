// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package remote

import (
	"slices"
	"strings"
)

// MinRedactPrefix is the shortest start of a secret that Redact replaces
// on its own: a secret cut short in a message (a client that echoes the
// first bytes of a statement) is still hidden, down to this many bytes.
const MinRedactPrefix = 6

// Redact replaces each non-empty secret in s, and each run of
// MinRedactPrefix bytes or more that starts like one (the secret cut
// short), with ***. Whole secrets go first, longest first; then, at each
// place where some secret's first MinRedactPrefix bytes stand, the longest
// run that matches any secret, so that two secrets sharing a start never
// leave the rest of one in view. It is the one scrubber of messages that
// may hold a secret: the transport's, the services' and the provider's.
func Redact(s string, secrets ...string) string {
	var secs []string
	for _, sec := range secrets {
		if sec != "" && !slices.Contains(secs, sec) {
			secs = append(secs, sec)
		}
	}
	slices.SortFunc(secs, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secs {
		s = strings.ReplaceAll(s, sec, "***")
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		run := 0
		for _, sec := range secs {
			if len(sec) < MinRedactPrefix || !strings.HasPrefix(s[i:], sec[:MinRedactPrefix]) {
				continue
			}
			n := MinRedactPrefix
			for n < len(sec) && i+n < len(s) && s[i+n] == sec[n] {
				n++
			}
			run = max(run, n)
		}
		if run > 0 {
			b.WriteString("***")
			i += run
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
