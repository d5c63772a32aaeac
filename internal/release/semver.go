// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release

import (
	"regexp"
	"strconv"
	"strings"
)

// semverRe is the regular expression suggested by semver.org for SemVer 2.0.0
// (no leading "v": registries and Terraform compare the bare version).
var semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// IsSemver reports whether v is a SemVer 2.0.0 version without a "v" prefix.
func IsSemver(v string) bool { return semverRe.MatchString(v) }

// compareSemver orders two valid SemVer strings by precedence (build metadata
// ignored, as the spec says), falling back to a byte comparison so that the
// order is total and deterministic.
func compareSemver(a, b string) int {
	ma, mb := semverRe.FindStringSubmatch(a), semverRe.FindStringSubmatch(b)
	if ma == nil || mb == nil {
		return strings.Compare(a, b)
	}
	for i := 1; i <= 3; i++ {
		if c := compareNumeric(ma[i], mb[i]); c != 0 {
			return c
		}
	}
	if c := comparePrerelease(ma[4], mb[4]); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func compareNumeric(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// comparePrerelease: no pre-release ranks above any pre-release; identifiers
// compare numerically when both are numeric, numeric ranks below alphanumeric.
func comparePrerelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		_, errA := strconv.ParseUint(pa[i], 10, 64)
		_, errB := strconv.ParseUint(pb[i], 10, 64)
		var c int
		switch {
		case errA == nil && errB == nil:
			c = compareNumeric(pa[i], pb[i])
		case errA == nil:
			c = -1
		case errB == nil:
			c = 1
		default:
			c = strings.Compare(pa[i], pb[i])
		}
		if c != 0 {
			return c
		}
	}
	return compareNumeric(strconv.Itoa(len(pa)), strconv.Itoa(len(pb)))
}
