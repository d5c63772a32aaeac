// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// fieldErr is a plan-time validation error (*fault.FieldError): the
// attribute path in Terraform terms (replicas[1].host, users["app"].host),
// the offending value and what is wrong with it.
func fieldErr(path, value, format string, args ...any) error {
	return fault.Fieldf(path, value, format, args...)
}

// secretErr is fieldErr for a secret: the value is never shown.
func secretErr(path, format string, args ...any) error {
	return &fault.FieldError{Path: path, Err: fmt.Errorf(format, args...), Secret: true}
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// limits returns the strictest limits of a flavor, or of both when the
// flavor is not known yet (plan time before the first apply).
func limits(f Flavor) (maxUser, maxSourcePassword int) {
	maxUser, maxSourcePassword = 1<<30, 1<<30
	for _, fl := range []Flavor{MariaDB, MySQL} {
		if f != FlavorUnknown && f != fl {
			continue
		}
		lowest := MinMariaDB
		if fl == MySQL {
			lowest = MinMySQL
		}
		d, err := NewDialect(fl, lowest)
		if err != nil {
			panic(err)
		}
		maxUser = min2(maxUser, d.MaxUserNameLen)
		maxSourcePassword = min2(maxSourcePassword, d.MaxSourcePasswordLen)
	}
	return maxUser, maxSourcePassword
}

func min2(a, b int) int {
	if a < b {
		return a
	}
	return b
}

var (
	dbNameRE   = regexp.MustCompile(`^[A-Za-z0-9_$][A-Za-z0-9_$-]*$`)
	userNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	labelRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	ipv4WildRE = regexp.MustCompile(`^([0-9]{1,3}\.){1,3}%$`)
	charsetRE  = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	collateRE  = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	settingRE  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
)

// systemSchemas are the same for both supported flavors.
var systemSchemas = []string{"information_schema", "mysql", "performance_schema", "sys"}

// ValidateDatabaseName accepts 1 to 64 characters of letters, digits, _, $
// and - (not first: the name is also a command-line argument of the dump
// tool), and refuses the system schemas.
func ValidateDatabaseName(path, name string) error {
	switch {
	case name == "":
		return fieldErr(path, name, "must not be empty")
	case len(name) > 64:
		return fieldErr(path, name, "must be at most 64 characters")
	case !dbNameRE.MatchString(name):
		return fieldErr(path, name, "may contain only letters, digits, '_', '$' and '-', and must not start with '-'")
	case slices.Contains(systemSchemas, strings.ToLower(name)):
		return fieldErr(path, name, "is a system schema")
	}
	return nil
}

// ValidateDatabaseName is ValidateDatabaseName for this dialect.
func (d Dialect) ValidateDatabaseName(path, name string) error {
	if err := ValidateDatabaseName(path, name); err != nil {
		return err
	}
	if d.IsSystemSchema(strings.ToLower(name)) {
		return fieldErr(path, name, "is a system schema")
	}
	return nil
}

// ValidateUserName accepts letters, digits, '_', '.' and '-', up to the
// flavor's limit (MariaDB 80, MySQL 32; 32 while the flavor is unknown).
func ValidateUserName(path, name string, f Flavor) error {
	maxLen, _ := limits(f)
	switch {
	case name == "":
		return fieldErr(path, name, "must not be empty")
	case len(name) > maxLen:
		return fieldErr(path, name, "must be at most %d characters on %s", maxLen, flavorOrAll(f))
	case !userNameRE.MatchString(name):
		return fieldErr(path, name, "may contain only letters, digits, '_', '.' and '-'")
	}
	return nil
}

// ValidateUserName is ValidateUserName for this dialect.
func (d Dialect) ValidateUserName(path, name string) error {
	return ValidateUserName(path, name, d.Flavor)
}

func flavorOrAll(f Flavor) string {
	if f == FlavorUnknown {
		return "MySQL (the flavor is not known yet)"
	}
	return f.String()
}

// ValidateHostPattern accepts the host part of an account: "%", "localhost",
// an IPv4 or IPv6 address, an IPv4 prefix ending in % ("10.0.0.%"), an IPv4
// address/netmask ("10.0.0.0/255.255.255.0"), a host name, or a host name
// pattern "%.example.com". CIDR suffixes (/24) are refused: MariaDB does not
// understand them.
func ValidateHostPattern(path, host string) error {
	switch {
	case host == "":
		return fieldErr(path, host, "must not be empty (use \"%%\" for any host)")
	case len(host) > 255:
		return fieldErr(path, host, "must be at most 255 characters")
	case host == "%" || host == "localhost":
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil && !strings.Contains(host, "%") {
		return nil
	}
	if ipv4WildRE.MatchString(host) {
		for _, o := range strings.Split(strings.TrimSuffix(host, ".%"), ".") {
			if n, err := strconv.Atoi(o); err != nil || n > 255 || (len(o) > 1 && o[0] == '0') {
				return fieldErr(path, host, "is not an IPv4 prefix followed by %%")
			}
		}
		return nil
	}
	if addr, mask, ok := strings.Cut(host, "/"); ok {
		a, err1 := netip.ParseAddr(addr)
		m, err2 := netip.ParseAddr(mask)
		if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
			return fieldErr(path, host, "must be IPv4 address/netmask such as 10.0.0.0/255.255.255.0 (CIDR lengths are not understood by MariaDB)")
		}
		bits := binaryOnesPrefix(m.As4())
		if bits < 0 {
			return fieldErr(path, host, "netmask %s is not contiguous", mask)
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(host, "%."); ok {
		if validHostname(rest) {
			return nil
		}
		return fieldErr(path, host, "is not %%. followed by a host name")
	}
	if validHostname(host) {
		return nil
	}
	return fieldErr(path, host, "must be %%, localhost, an IP address, an IPv4 prefix like 10.0.0.%%, address/netmask, or a host name")
}

func binaryOnesPrefix(b [4]byte) int {
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for n < 32 && v&(1<<(31-n)) != 0 {
		n++
	}
	if v<<n != 0 {
		return -1
	}
	return n
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	// An all-numeric dotted name is an IP address attempt, not a host name.
	allNum := true
	for _, l := range labels {
		if _, err := strconv.Atoi(l); err != nil {
			allNum = false
		}
	}
	return !allNum
}

// ValidateHostAddress accepts what a member's host or a replication source
// may be: a host name or an IP address, no patterns.
func ValidateHostAddress(path, host string) error {
	switch {
	case host == "":
		return fieldErr(path, host, "must not be empty")
	case len(host) > 255:
		return fieldErr(path, host, "must be at most 255 characters")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fieldErr(path, host, "must not have an IPv6 zone")
		}
		return nil
	}
	if validHostname(host) {
		return nil
	}
	return fieldErr(path, host, "must be a host name or an IP address")
}

// ValidatePort accepts 1..65535.
func ValidatePort(path string, port int) error {
	if port < 1 || port > 65535 {
		return fieldErr(path, strconv.Itoa(port), "must be between 1 and 65535")
	}
	return nil
}

// ValidateServerID accepts 1..4294967295 (0 makes a server refuse to
// replicate).
func ValidateServerID(path string, id int64) error {
	if id < 1 || id > 4294967295 {
		return fieldErr(path, strconv.FormatInt(id, 10), "must be between 1 and 4294967295")
	}
	return nil
}

// ValidateLagThreshold accepts a replication lag limit of 1 second to 1 day.
func ValidateLagThreshold(path string, seconds int64) error {
	if seconds < 1 || seconds > 86400 {
		return fieldErr(path, strconv.FormatInt(seconds, 10), "must be between 1 and 86400 seconds")
	}
	return nil
}

// ValidatePassword accepts any non-empty UTF-8 text without NUL, up to 256
// bytes. The value never appears in the error.
func ValidatePassword(path, pw string) error {
	msg := ""
	switch {
	case pw == "":
		msg = "must not be empty"
	case len(pw) > 256:
		msg = "must be at most 256 bytes"
	case !utf8.ValidString(pw):
		msg = "must be valid UTF-8"
	case strings.IndexByte(pw, 0) >= 0:
		msg = "must not contain NUL"
	default:
		return nil
	}
	return secretErr(path, "%s", msg)
}

// ValidateSourcePassword is ValidatePassword plus the length CHANGE ... TO
// accepts for the replication account (MySQL 32, MariaDB 96; 32 while the
// flavor is unknown).
func ValidateSourcePassword(path, pw string, f Flavor) error {
	if err := ValidatePassword(path, pw); err != nil {
		return err
	}
	if _, maxLen := limits(f); utf8.RuneCountInString(pw) > maxLen {
		return secretErr(path, "must be at most %d characters: %s limits the replication password (SOURCE_PASSWORD/MASTER_PASSWORD)", maxLen, flavorOrAll(f))
	}
	return nil
}

// ValidateSourcePassword is ValidateSourcePassword for this dialect.
func (d Dialect) ValidateSourcePassword(path, pw string) error {
	return ValidateSourcePassword(path, pw, d.Flavor)
}

// ValidateCharset checks a character set and an optional collation that
// belongs to it.
func ValidateCharset(charsetPath, collationPath, charset, collation string) error {
	if !charsetRE.MatchString(charset) {
		return fieldErr(charsetPath, charset, "must be a character set name such as utf8mb4")
	}
	if collation == "" {
		return nil
	}
	if !collateRE.MatchString(collation) || !strings.HasPrefix(collation, charset+"_") {
		return fieldErr(collationPath, collation, "must be a collation of %s (%s_...)", charset, charset)
	}
	return nil
}

// NormalizePrivileges validates database-level privileges against the
// flavor's list (both flavors' common list while unknown) and returns them
// upper-case, single-spaced, sorted and de-duplicated. "ALL" means "ALL
// PRIVILEGES" and cannot be combined with others.
func NormalizePrivileges(path string, privs []string, f Flavor) ([]string, error) {
	allowed := commonDBPrivileges
	if f != FlavorUnknown {
		lowest := MinMariaDB
		if f == MySQL {
			lowest = MinMySQL
		}
		d, err := NewDialect(f, lowest)
		if err != nil {
			return nil, err
		}
		allowed = d.dbPrivileges
	}
	return normalizePrivileges(path, privs, allowed)
}

// NormalizePrivileges is NormalizePrivileges for this dialect.
func (d Dialect) NormalizePrivileges(path string, privs []string) ([]string, error) {
	return normalizePrivileges(path, privs, d.dbPrivileges)
}

func normalizePrivileges(path string, privs []string, allowed []string) ([]string, error) {
	if len(privs) == 0 {
		return nil, fieldErr(path, "", "must list at least one privilege")
	}
	seen := map[string]bool{}
	var out []string
	for i, p := range privs {
		ip := fmt.Sprintf("%s[%d]", path, i)
		n := strings.Join(strings.Fields(strings.ToUpper(p)), " ")
		if n == "ALL" {
			n = "ALL PRIVILEGES"
		}
		switch {
		case n == "GRANT OPTION":
			return nil, fieldErr(ip, p, "is not granted by the provider: an account that can pass on its privileges is not minimal")
		case !slices.Contains(allowed, n):
			return nil, fieldErr(ip, p, "is not a database privilege (allowed: %s)", strings.Join(allowed, ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if seen["ALL PRIVILEGES"] && len(out) > 1 {
		return nil, fieldErr(path, strings.Join(privs, ", "), "ALL PRIVILEGES already includes the others")
	}
	slices.Sort(out)
	return out, nil
}

// ownedSettings are the server settings the resource manages itself; each
// maps to what the operator should use instead.
var ownedSettings = map[string]string{
	"server_id":                            "the member's server_id attribute",
	"port":                                 "the member's port attribute",
	"bind_address":                         "the member's bind_address attribute",
	"report_host":                          "the member's host attribute (it is reported as is)",
	"report_port":                          "the member's port attribute",
	"log_bin":                              "nothing: binary logging is always on, with a provider-chosen name",
	"log_bin_basename":                     "nothing: binary logging is always on, with a provider-chosen name",
	"log_bin_index":                        "nothing: binary logging is always on, with a provider-chosen name",
	"binlog_format":                        "nothing: replication uses row-based logging",
	"log_slave_updates":                    "nothing: every member logs replicated changes, so any can become primary",
	"log_replica_updates":                  "nothing: every member logs replicated changes, so any can become primary",
	"relay_log":                            "nothing: the relay log name is fixed so it survives a host rename",
	"relay_log_recovery":                   "nothing: relay log recovery is always on",
	"gtid_mode":                            "nothing: GTID replication is always on",
	"enforce_gtid_consistency":             "nothing: GTID replication is always on",
	"gtid_strict_mode":                     "nothing: GTID strict mode is always on",
	"read_only":                            "the member's role (primary or replicas)",
	"super_read_only":                      "the member's role (primary or replicas)",
	"socket":                               "nothing: the provider's client connects through the default socket",
	"skip_networking":                      "nothing: replication needs TCP",
	"networking":                           "nothing: replication needs TCP",
	"rpl_semi_sync_master_enabled":         "the cluster's semi_sync attribute",
	"rpl_semi_sync_slave_enabled":          "the cluster's semi_sync attribute",
	"rpl_semi_sync_source_enabled":         "the cluster's semi_sync attribute",
	"rpl_semi_sync_replica_enabled":        "the cluster's semi_sync attribute",
	"rpl_semi_sync_master_timeout":         "the cluster's semi_sync.timeout attribute",
	"rpl_semi_sync_source_timeout":         "the cluster's semi_sync.timeout attribute",
	"rpl_semi_sync_master_wait_point":      "nothing: semi_sync always waits AFTER_SYNC",
	"rpl_semi_sync_source_wait_point":      "nothing: semi_sync always waits AFTER_SYNC",
	"rpl_semi_sync_master_wait_no_slave":   "nothing: with semi_sync a primary without replicas does not wait",
	"rpl_semi_sync_source_wait_no_replica": "nothing: with semi_sync a primary without replicas does not wait",
}

// settingPrefixes are the option prefixes the server strips before looking
// an option up (loose_ first, then one of the boolean prefixes).
var settingPrefixes = []string{"skip_", "disable_", "enable_", "maximum_"}

// ValidateSetting checks one extra server setting (name and value, as the
// operator wrote them) and returns the canonical name ("-" written as "_").
// mapPath is the map attribute; errors name the entry, settings["x"].
//
// Names are lower-case [a-z0-9_-]. A name the resource owns is refused,
// including through the loose_/skip_/disable_/enable_/maximum_ prefixes and
// through an abbreviation (MariaDB accepts any unambiguous prefix of an
// option name: "server-i" is server_id). Values are printable ASCII without
// # (comment), quotes or backslash (option files unquote and unescape them),
// without surrounding blanks (option files trim them); an empty value writes
// the bare option name (for flags such as skip-name-resolve).
func ValidateSetting(mapPath, name, value string) (string, error) {
	path := fmt.Sprintf("%s[%q]", mapPath, name)
	if !settingRE.MatchString(name) {
		return "", fieldErr(path, name, "setting names are lower-case letters, digits, '_' and '-', starting with a letter, at most 64 characters")
	}
	canon := strings.ReplaceAll(name, "-", "_")
	base := strings.TrimPrefix(canon, "loose_")
	cands := []string{base}
	for _, p := range settingPrefixes {
		if b, ok := strings.CutPrefix(base, p); ok {
			cands = append(cands, b)
		}
	}
	if err := checkRefusedSetting(path, name, base, value); err != nil {
		return "", err
	}
	for _, c := range cands {
		if hint, ok := ownedSettings[c]; ok {
			return "", fieldErr(path, name, "is managed by the resource: use %s", hint)
		}
		for owned, hint := range ownedSettings {
			if strings.HasPrefix(owned, c) {
				return "", fieldErr(path, name, "abbreviates %s, which is managed by the resource: use %s", owned, hint)
			}
		}
	}
	if err := validateSettingValue(path, value); err != nil {
		return "", err
	}
	return canon, nil
}

func validateSettingValue(path, value string) error {
	if len(value) > 4096 {
		return fieldErr(path, value, "value must be at most 4096 characters")
	}
	for _, r := range value {
		if r < 0x20 || r > 0x7e {
			return fieldErr(path, value, "value must be printable ASCII on one line")
		}
		if strings.ContainsRune("#'\"\\", r) {
			return fieldErr(path, value, "value must not contain %q (option files read it as a comment, quote or escape)", r)
		}
	}
	if strings.TrimSpace(value) != value {
		return fieldErr(path, value, "value must not start or end with blanks")
	}
	return nil
}

// safeCharsets are the character sets a setting may give the server or its
// sessions: in each, no multi-byte character contains a byte below 0x80,
// so a quote or a backslash is always itself (utf8 is utf8mb3 on both
// flavors; binary and the single-byte ones have no multi-byte characters).
// GBK, Big5, GB18030, Shift-JIS and CP932 are refused: a character there can
// end in 0x5C, which turns an escaped backslash into an escaped quote (issue
// 13). Others (ujis, euckr, gb2312, the ucs2/utf16/utf32 family...) are
// refused too: nothing needs them for the server's own character set, and a
// short list is one that can be checked.
var safeCharsets = []string{"utf8mb4", "utf8mb3", "utf8", "latin1", "ascii", "binary"}

// refusal says why a setting is refused, and which values are harmless.
type refusal struct {
	why string
	// allow, when set, accepts harmless values. prefix is the boolean
	// prefix the setting was written with ("", "skip", "disable", "enable",
	// "maximum").
	allow func(prefix, value string) bool
	// allowed describes the accepted values for the message.
	allowed string
}

func charsetValue(prefix, v string) bool {
	return prefix == "" && slices.Contains(safeCharsets, strings.ToLower(v))
}

func collationValue(prefix, v string) bool {
	v = strings.ToLower(v)
	if prefix != "" || !collateRE.MatchString(v) {
		return false
	}
	if v == "binary" {
		return true
	}
	for _, cs := range safeCharsets {
		if strings.HasPrefix(v, cs+"_") {
			return true
		}
	}
	return false
}

func handshakeOn(prefix, v string) bool {
	switch prefix {
	case "skip", "disable", "maximum":
		return false
	}
	switch strings.ToLower(v) {
	case "", "1", "on", "true", "yes":
		return true
	}
	return false
}

const charsetWhy = "changes the character set the server reads the provider's SQL in; " +
	"in GBK, Big5, GB18030, Shift-JIS or CP932 a quoted password can end its literal early (SQL injection)"

// refusedSettings are the server settings the resource refuses, by
// canonical name (what ValidateSetting matches, also through loose_, the
// boolean prefixes and abbreviations). Each either switches off the
// database's security (authentication, who the server runs as, SQL or code
// run at start-up or on connect), breaks the provider's own access, or
// changes the character set the provider's SQL is read in.
var refusedSettings = map[string]refusal{
	// Authentication and privileges.
	"skip_grant_tables": {why: "starts the server without authentication: every account, and anyone who can connect, gets every privilege"},
	"grant_tables":      {why: "turned off (skip-grant-tables) it starts the server without authentication"},
	"unix_socket":       {why: "switches the unix_socket authentication plugin, which the provider logs in with as the host's root (MariaDB)"},
	"user":              {why: "changes the operating-system account the server runs as (root would give SQL file access to the whole host)"},
	// SQL or code run at start-up, on connect, or by replication.
	"init_file":          {why: "runs the SQL of a file at every start-up, with every privilege"},
	"init_connect":       {why: "runs SQL at the start of every connection (it can change the session's character set or privileges)"},
	"init_slave":         {why: "runs SQL every time the replication SQL thread starts"},
	"init_replica":       {why: "runs SQL every time the replication SQL thread starts"},
	"plugin_load":        {why: "loads shared libraries (plugins) into the server at start-up: arbitrary code"},
	"plugin_load_add":    {why: "loads shared libraries (plugins) into the server at start-up: arbitrary code"},
	"early_plugin_load":  {why: "loads shared libraries (plugins) into the server before InnoDB starts: arbitrary code"},
	"plugin_dir":         {why: "changes the directory plugins (shared libraries) are loaded from: arbitrary code"},
	"basedir":            {why: "changes the directory the plugin directory and character set files are found under: arbitrary code"},
	"character_sets_dir": {why: "replaces the character set definitions the server reads SQL with"},
	"secure_file_priv": {
		why:     "decides where SQL may read and write files on the host (SELECT ... INTO OUTFILE, LOAD DATA, LOAD_FILE); an empty value or another directory widens it",
		allow:   func(prefix, v string) bool { return prefix == "" && strings.EqualFold(v, "NULL") },
		allowed: "NULL (no file access at all)",
	},
	// The character set the provider's SQL is read in (issue 13).
	"character_set_server":     {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"character_set_client":     {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"character_set_connection": {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"character_set_results":    {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"character_set_database":   {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"default_character_set":    {why: charsetWhy, allow: charsetValue, allowed: strings.Join(safeCharsets, ", ")},
	"collation_server":         {why: charsetWhy, allow: collationValue, allowed: "a collation of " + strings.Join(safeCharsets, ", ")},
	"collation_connection":     {why: charsetWhy, allow: collationValue, allowed: "a collation of " + strings.Join(safeCharsets, ", ")},
	"collation_database":       {why: charsetWhy, allow: collationValue, allowed: "a collation of " + strings.Join(safeCharsets, ", ")},
	"default_collation":        {why: charsetWhy, allow: collationValue, allowed: "a collation of " + strings.Join(safeCharsets, ", ")},
	"character_set_client_handshake": {
		why:     "turned off, the server ignores the character set clients ask for and reads their SQL in its own",
		allow:   handshakeOn,
		allowed: "ON (the default)",
	},
}

// checkRefusedSetting refuses a setting of refusedSettings, written in any
// of the ways the servers accept: base is the name without "loose_", with
// "_" for "-"; a skip_/disable_/enable_/maximum_ prefix is read as the
// server reads it, and a name that is not an exact option name is taken as
// the abbreviation of every refused setting it begins (the servers accept
// an unambiguous prefix of an option's name).
func checkRefusedSetting(path, name, base, value string) error {
	type cand struct{ prefix, name string }
	cands := []cand{{"", base}}
	for _, p := range settingPrefixes {
		if b, ok := strings.CutPrefix(base, p); ok {
			cands = append(cands, cand{strings.TrimSuffix(p, "_"), b})
		}
	}
	for _, c := range cands {
		if r, ok := refusedSettings[c.name]; ok {
			if err := refuse(path, name, value, c.name, c.prefix, r); err != nil {
				return err
			}
			continue
		}
		targets := make([]string, 0, 2)
		for n := range refusedSettings {
			if strings.HasPrefix(n, c.name) {
				targets = append(targets, n)
			}
		}
		slices.Sort(targets)
		for _, n := range targets {
			if err := refuse(path, name, value, n, c.prefix, refusedSettings[n]); err != nil {
				return err
			}
		}
	}
	return nil
}

func refuse(path, name, value, target, prefix string, r refusal) error {
	if r.allow != nil && r.allow(prefix, value) {
		return nil
	}
	what := "is refused"
	if target != strings.TrimPrefix(strings.TrimPrefix(strings.ReplaceAll(name, "-", "_"), "loose_"), prefix+"_") {
		what = "is refused (it is read as " + target + ")"
	}
	if r.allowed != "" {
		return fieldErr(path, value, "%s %s: it %s; allowed values: %s", name, what, r.why, r.allowed)
	}
	return fieldErr(path, value, "%s %s: it %s", name, what, r.why)
}
