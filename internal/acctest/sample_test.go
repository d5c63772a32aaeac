// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"testing"
	"time"
)

func TestSample(t *testing.T) {
	ms := time.Millisecond
	odd := NewSample([]time.Duration{30 * ms, 10 * ms, 20 * ms})
	if odd.Median != 20*ms || odd.Min != 10*ms || odd.Max != 30*ms {
		t.Errorf("odd sample: %+v", odd)
	}
	if odd.All[0] != 30*ms {
		t.Errorf("the runs must keep their order: %v", odd.All)
	}
	even := NewSample([]time.Duration{40 * ms, 10 * ms, 20 * ms, 30 * ms})
	if even.Median != 25*ms {
		t.Errorf("even sample median %s, want 25ms", even.Median)
	}
	if r := even.Ratio(odd); r != 1.25 {
		t.Errorf("ratio %v, want 1.25", r)
	}
	if r := odd.Ratio(Sample{}); r != 0 {
		t.Errorf("ratio to an empty sample %v, want 0", r)
	}
	if got, want := odd.String(), "median 20ms (min 10ms, max 30ms, n=3)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := odd.Runs(), "30ms 10ms 20ms"; got != want {
		t.Errorf("Runs() = %q, want %q", got, want)
	}
}
