// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Sample is a set of timings of one measurement, summarised for the
// benchmarks (make bench): they report medians and spreads, and ratios of
// medians measured in the same run, never assertions.
type Sample struct {
	All    []time.Duration // in the order measured
	Median time.Duration
	Min    time.Duration
	Max    time.Duration
}

// NewSample summarises d (which it does not modify).
func NewSample(d []time.Duration) Sample {
	s := Sample{All: slices.Clone(d)}
	if len(d) == 0 {
		return s
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// Ratio is the ratio of the medians s / base.
func (s Sample) Ratio(base Sample) float64 {
	if base.Median == 0 {
		return 0
	}
	return float64(s.Median) / float64(base.Median)
}

// String is "median 1.234s (min 1.2s, max 1.3s, n=5)".
func (s Sample) String() string {
	return fmt.Sprintf("median %s (min %s, max %s, n=%d)", round(s.Median), round(s.Min), round(s.Max), len(s.All))
}

// Runs lists every run, in the order measured.
func (s Sample) Runs() string {
	parts := make([]string, len(s.All))
	for i, d := range s.All {
		parts[i] = round(d).String()
	}
	return strings.Join(parts, " ")
}

func round(d time.Duration) time.Duration {
	if d < 100*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// Report prints one line of a benchmark's report on stdout, as it comes:
// testing cuts a benchmark's log short, and the figures are the point.
func Report(format string, args ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}
