// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package apply

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// report is the parsed output of workerScript.
type report struct {
	result    string
	steps     map[string]stepResult
	restore   int // -1: no restore was attempted; 0: restored; 1: failed
	conflicts []string
	changed   []string
	log       string
	// prevalidated: the validator ran before any live file changed;
	// nsfail: why it could not (it then ran after the swap).
	prevalidated bool
	nsfail       string
}

type stepResult struct {
	exit   int
	output string
}

func (r *report) step(name string) (stepResult, bool) {
	s, ok := r.steps[name]
	return s, ok
}

// parseReport reads a worker report. Unknown lines are ignored so that a
// newer host-side script does not break an older client.
func parseReport(out []byte) (*report, error) {
	rep := &report{steps: map[string]stepResult{}, restore: -1}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	header, end := false, false
	for sc.Scan() {
		line := sc.Text()
		key, rest, _ := strings.Cut(line, " ")
		switch key {
		case "foobar-report":
			header = true
		case "result":
			rep.result = rest
		case "end":
			end = true
		case "conflict":
			rep.conflicts = append(rep.conflicts, rest)
		case "changed":
			_, p, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, fmt.Errorf("malformed report line %q", line)
			}
			rep.changed = append(rep.changed, p)
		case "prevalidated":
			rep.prevalidated = rest == "1"
		case "nsfail":
			b, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, fmt.Errorf("malformed nsfail in report: %w", err)
			}
			rep.nsfail = strings.TrimSpace(string(b))
		case "restore":
			n, err := strconv.Atoi(rest)
			if err != nil {
				return nil, fmt.Errorf("malformed report line %q", line)
			}
			rep.restore = n
		case "log":
			b, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, fmt.Errorf("malformed log in report: %w", err)
			}
			rep.log = string(b)
		case "step":
			f := strings.SplitN(rest, " ", 3)
			if len(f) < 2 {
				return nil, fmt.Errorf("malformed report line %q", line)
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("malformed report line %q", line)
			}
			var b []byte
			if len(f) == 3 {
				if b, err = base64.StdEncoding.DecodeString(f[2]); err != nil {
					return nil, fmt.Errorf("malformed %s output in report: %w", f[0], err)
				}
			}
			rep.steps[f[0]] = stepResult{exit: n, output: string(b)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !header || rep.result == "" || !end {
		return nil, fmt.Errorf("incomplete report from the host: %q", truncate(string(out), 2048))
	}
	return rep, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
