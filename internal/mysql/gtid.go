// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// GTIDSet is a parsed GTID position, comparable across members of one
// flavor: MariaDB's domain-server-seq list (one sequence per domain: with
// gtid_strict_mode a domain's sequence numbers only grow, so a position
// holds every transaction of a domain up to its sequence), or MySQL's
// uuid[:tag]:interval[:interval] set.
type GTIDSet struct {
	flavor Flavor
	// maria is the highest sequence number by domain, or by domain and
	// server id (byServer: a gtid_binlog_state).
	maria    map[mariaKey]uint64
	byServer bool
	// mysql is the intervals by source uuid (and tag), sorted, merged.
	mysql map[string][][2]uint64
}

type mariaKey struct{ domain, server uint64 }

// ParseGTIDSet parses a position as the server prints it (commas, with
// optional white space and newlines).
func ParseGTIDSet(f Flavor, s string) (GTIDSet, error) {
	return parseGTIDSet(f, s, false)
}

// ParseMariaDBBinlogState parses a MariaDB @@gtid_binlog_state: the last
// sequence number each server id logged in each domain. Unlike a
// position, it tells a transaction a server wrote while cut off (errant:
// its server id and sequence number are not in the other member's state)
// from one that sequence numbers of later writes elsewhere would hide.
func ParseMariaDBBinlogState(s string) (GTIDSet, error) {
	return parseGTIDSet(MariaDB, s, true)
}

func parseGTIDSet(f Flavor, s string, byServer bool) (GTIDSet, error) {
	g := GTIDSet{flavor: f, maria: map[mariaKey]uint64{}, byServer: byServer, mysql: map[string][][2]uint64{}}
	s = strings.NewReplacer(`\n`, "", "\n", "", " ", "", "\t", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return g, nil
	}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		if f == MariaDB {
			fs := strings.Split(part, "-")
			if len(fs) != 3 {
				return GTIDSet{}, fmt.Errorf("GTID %q is not domain-server-sequence", part)
			}
			dom, err1 := strconv.ParseUint(fs[0], 10, 32)
			srv, err2 := strconv.ParseUint(fs[1], 10, 32)
			seq, err3 := strconv.ParseUint(fs[2], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return GTIDSet{}, fmt.Errorf("GTID %q is not domain-server-sequence", part)
			}
			k := mariaKey{domain: dom}
			if byServer {
				k.server = srv
			}
			g.maria[k] = max(g.maria[k], seq)
			continue
		}
		fs := strings.Split(part, ":")
		if len(fs) < 2 {
			return GTIDSet{}, fmt.Errorf("GTID set element %q has no interval", part)
		}
		key := strings.ToLower(fs[0])
		for _, iv := range fs[1:] {
			lo, hi, isRange := strings.Cut(iv, "-")
			a, err := strconv.ParseUint(lo, 10, 64)
			if err != nil {
				// A tag (MySQL 8.4): the intervals after it belong to uuid:tag.
				key = strings.ToLower(fs[0]) + ":" + strings.ToLower(iv)
				continue
			}
			b := a
			if isRange {
				if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
					return GTIDSet{}, fmt.Errorf("GTID interval %q in %q is not a range", iv, part)
				}
			}
			g.mysql[key] = append(g.mysql[key], [2]uint64{a, b})
		}
	}
	for k, ivs := range g.mysql {
		g.mysql[k] = mergeIntervals(ivs)
	}
	return g, nil
}

func mergeIntervals(ivs [][2]uint64) [][2]uint64 {
	sort.Slice(ivs, func(i, j int) bool { return ivs[i][0] < ivs[j][0] })
	var out [][2]uint64
	for _, iv := range ivs {
		if n := len(out); n > 0 && iv[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], iv[1])
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Contains reports whether every transaction of o is in g.
func (g GTIDSet) Contains(o GTIDSet) bool {
	return o.Minus(g) == ""
}

// Minus returns what is in g and not in o, printed in the flavor's
// syntax ("" when g is contained in o): the errant transactions of a
// member whose position is g, against a primary at o.
func (g GTIDSet) Minus(o GTIDSet) string {
	var parts []string
	if g.flavor == MariaDB {
		keys := make([]mariaKey, 0, len(g.maria))
		for k := range g.maria {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].domain != keys[j].domain {
				return keys[i].domain < keys[j].domain
			}
			return keys[i].server < keys[j].server
		})
		for _, k := range keys {
			if have, ok := o.maria[k]; !ok || g.maria[k] > have {
				from := uint64(1)
				if ok {
					from = have + 1
				}
				if g.byServer {
					parts = append(parts, fmt.Sprintf("domain %d server %d sequence %d-%d", k.domain, k.server, from, g.maria[k]))
				} else {
					parts = append(parts, fmt.Sprintf("domain %d sequence %d-%d", k.domain, from, g.maria[k]))
				}
			}
		}
		return strings.Join(parts, ", ")
	}
	keys := make([]string, 0, len(g.mysql))
	for k := range g.mysql {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var rest []string
		for _, iv := range g.mysql[k] {
			for _, r := range subtract(iv, o.mysql[k]) {
				if r[0] == r[1] {
					rest = append(rest, fmt.Sprint(r[0]))
				} else {
					rest = append(rest, fmt.Sprintf("%d-%d", r[0], r[1]))
				}
			}
		}
		if len(rest) > 0 {
			parts = append(parts, k+":"+strings.Join(rest, ":"))
		}
	}
	return strings.Join(parts, ",")
}

// subtract returns iv minus the sorted, merged intervals of o.
func subtract(iv [2]uint64, o [][2]uint64) [][2]uint64 {
	out := [][2]uint64{iv}
	for _, c := range o {
		var next [][2]uint64
		for _, r := range out {
			if c[1] < r[0] || c[0] > r[1] {
				next = append(next, r)
				continue
			}
			if c[0] > r[0] {
				next = append(next, [2]uint64{r[0], c[0] - 1})
			}
			if c[1] < r[1] {
				next = append(next, [2]uint64{c[1] + 1, r[1]})
			}
		}
		out = next
	}
	return out
}
