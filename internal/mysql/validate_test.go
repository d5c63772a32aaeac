// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
)

// check runs one validator case: want "" means valid, otherwise the error
// must contain want.
func check(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: accepted, want error containing %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", what, err, want)
	}
}

func TestValidateNames(t *testing.T) {
	t.Parallel()
	db := []struct{ in, want string }{
		{"app", ""}, {"app_2", ""}, {"shop-eu", ""}, {"$x", ""}, {strings.Repeat("d", 64), ""},
		{"", "must not be empty"}, {strings.Repeat("d", 65), "at most 64"},
		{"-app", "must not start with '-'"}, {"a b", "may contain only"}, {"a`b", "may contain only"},
		{"a.b", "may contain only"}, {"a/b", "may contain only"}, {"ü", "may contain only"},
		{"mysql", "system schema"}, {"Performance_Schema", "system schema"}, {"sys", "system schema"},
	}
	for _, tt := range db {
		err := ValidateDatabaseName("databases[0].name", tt.in)
		check(t, "database "+tt.in, err, tt.want)
		if err != nil && !strings.HasPrefix(err.Error(), "databases[0].name = "+strconv.Quote(tt.in)+" is not valid") {
			t.Errorf("error %q does not name the attribute and value", err)
		}
	}

	users := []struct {
		in   string
		f    Flavor
		want string
	}{
		{"app", MySQL, ""}, {"app.ro", MariaDB, ""}, {"a-b_c", FlavorUnknown, ""},
		{strings.Repeat("u", 32), MySQL, ""}, {strings.Repeat("u", 33), MySQL, "at most 32 characters on MySQL"},
		{strings.Repeat("u", 80), MariaDB, ""}, {strings.Repeat("u", 81), MariaDB, "at most 80 characters on MariaDB"},
		{strings.Repeat("u", 33), FlavorUnknown, "at most 32 characters on MySQL (the flavor is not known yet)"},
		{"", MySQL, "must not be empty"}, {"a'b", MySQL, "may contain only"}, {"a@b", MySQL, "may contain only"},
		{"a b", MySQL, "may contain only"},
	}
	for _, tt := range users {
		check(t, "user "+tt.in, ValidateUserName(`users["app"].name`, tt.in, tt.f), tt.want)
	}
}

func TestValidateHostPattern(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"%", ""}, {"localhost", ""}, {"10.0.0.1", ""}, {"10.0.0.%", ""}, {"10.%", ""}, {"192.168.1.%", ""},
		{"::1", ""}, {"fe80::1", ""}, {"10.0.0.0/255.255.255.0", ""}, {"10.0.0.0/255.0.0.0", ""},
		{"app.example.com", ""}, {"%.example.com", ""}, {"web-1", ""},
		{"", "must not be empty"}, {"10.0.0.0/24", "CIDR"}, {"10.0.0.0/255.0.255.0", "not contiguous"},
		{"10.0.0.300", "must be %"}, {"300.%", "IPv4 prefix"}, {"010.%", "IPv4 prefix"}, {"10.0.0.0.%", "must be %"},
		{"%%", "must be %"}, {"a_b", "must be %"}, {"x'y", "must be %"}, {"app.example.com.%", "must be %"},
		{"%.", "%. followed by a host name"}, {"-bad.example.com", "must be %"}, {strings.Repeat("h", 256), "at most 255"},
		{"10.0.0.1\n", "must be %"},
	}
	for _, tt := range tests {
		check(t, "host "+tt.in, ValidateHostPattern(`users["app"].host`, tt.in), tt.want)
	}
	if err := ValidateHostPattern(`users["app"].host`, "10.0.0.0/24"); err == nil ||
		!strings.HasPrefix(err.Error(), `users["app"].host = "10.0.0.0/24" is not valid: `) {
		t.Errorf("error does not name the attribute and the value: %v", err)
	}
}

func TestValidateHostAddressAndNumbers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"db1.example.com", ""}, {"10.0.0.1", ""}, {"2001:db8::1", ""}, {"db1", ""},
		{"", "must not be empty"}, {"%", "host name or an IP"}, {"10.0.0.%", "host name or an IP"},
		{"db 1", "host name or an IP"}, {"fe80::1%eth0", "zone"}, {"1.2.3", "host name or an IP"},
	} {
		check(t, "address "+tt.in, ValidateHostAddress("replicas[1].host", tt.in), tt.want)
	}
	for _, tt := range []struct {
		id   int64
		want string
	}{{1, ""}, {4294967295, ""}, {0, "between 1 and 4294967295"}, {4294967296, "between 1 and 4294967295"}, {-1, "between"}} {
		check(t, "server id", ValidateServerID("replicas[0].server_id", tt.id), tt.want)
	}
	for _, tt := range []struct {
		s    int64
		want string
	}{{1, ""}, {86400, ""}, {0, "between 1 and 86400"}, {86401, "between"}} {
		check(t, "lag", ValidateLagThreshold("max_lag_seconds", tt.s), tt.want)
	}
	check(t, "port", ValidatePort("primary.port", 0), "between 1 and 65535")
}

func TestValidatePasswordNeverShowsValue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pw   string
		f    Flavor
		want string
	}{
		{"", MySQL, "must not be empty"},
		{"s3cret\x00", MySQL, "must not contain NUL"},
		{"bad\xffutf8", MySQL, "valid UTF-8"},
		{strings.Repeat("p", 257), MySQL, "at most 256 bytes"},
		{strings.Repeat("p", 33), MySQL, "at most 32 characters: MySQL limits the replication password"},
		{strings.Repeat("p", 33), FlavorUnknown, "at most 32 characters"},
		{strings.Repeat("p", 96), MariaDB, ""},
		{strings.Repeat("p", 97), MariaDB, "at most 96 characters"},
	} {
		err := ValidateSourcePassword("replication_password", tt.pw, tt.f)
		check(t, "password", err, tt.want)
		if err != nil && tt.pw != "" && strings.Contains(err.Error(), tt.pw[:4]) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestNormalizePrivileges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		f    Flavor
		want []string
		err  string
	}{
		{[]string{"select", "Insert", "SELECT", " update "}, MySQL, []string{"INSERT", "SELECT", "UPDATE"}, ""},
		{[]string{"all"}, MariaDB, []string{"ALL PRIVILEGES"}, ""},
		{[]string{"create  temporary\ttables", "lock tables"}, FlavorUnknown, []string{"CREATE TEMPORARY TABLES", "LOCK TABLES"}, ""},
		{[]string{"DELETE HISTORY"}, MariaDB, []string{"DELETE HISTORY"}, ""},
		{[]string{"DELETE HISTORY"}, MySQL, nil, `grants[0].privileges[0] = "DELETE HISTORY" is not valid: is not a database privilege`},
		{[]string{"DELETE HISTORY"}, FlavorUnknown, nil, "is not a database privilege"},
		{[]string{"SUPER"}, MySQL, nil, "is not a database privilege"},
		{[]string{"FILE"}, MariaDB, nil, "is not a database privilege"},
		{[]string{"SELECT; DROP"}, MySQL, nil, "is not a database privilege"},
		{[]string{"GRANT OPTION"}, MySQL, nil, "not minimal"},
		{[]string{"ALL", "SELECT"}, MySQL, nil, "already includes"},
		{nil, MySQL, nil, "at least one"},
	}
	for _, tt := range tests {
		got, err := NormalizePrivileges("grants[0].privileges", tt.in, tt.f)
		check(t, strings.Join(tt.in, ","), err, tt.err)
		if tt.err == "" {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tt.in, diff)
			}
		}
	}
}

func TestValidateSetting(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, canon, want string }{
		{"max_connections", "500", "max_connections", ""},
		{"max-connections", "500", "max_connections", ""},
		{"skip-name-resolve", "", "skip_name_resolve", ""},
		{"ssl", "ON", "ssl", ""},
		{"log_error", "/var/log/mysql/error.log", "log_error", ""},
		{"character-set-server", "utf8mb4", "character_set_server", ""},
		{"collation_server", "utf8mb4_unicode_ci", "collation_server", ""},
		{"secure_file_priv", "NULL", "secure_file_priv", ""},
		{"datadir", "/srv/mysql", "datadir", ""},
		{"local_infile", "OFF", "local_infile", ""},
		{"innodb_buffer_pool_size", "1G", "innodb_buffer_pool_size", ""},
		{"relay_log_space_limit", "10G", "relay_log_space_limit", ""},

		{"Max_Connections", "1", "", "setting names are lower-case"},
		{"max connections", "1", "", "setting names are lower-case"},
		{"1abc", "1", "", "setting names are lower-case"},
		{"server_id", "2", "", "use the member's server_id attribute"},
		{"server-id", "2", "", "use the member's server_id attribute"},
		{"loose-server-id", "2", "", "use the member's server_id attribute"},
		{"server-i", "2", "", "abbreviates server_id"},
		{"read-o", "OFF", "", "abbreviates read_only"},
		{"super_read_only", "OFF", "", "the member's role"},
		{"skip-log-bin", "", "", "binary logging is always on"},
		{"disable_log_bin", "", "", "binary logging is always on"},
		{"loose_skip_log_bin", "", "", "binary logging is always on"},
		{"bind-address", "0.0.0.0", "", "bind_address attribute"},
		{"gtid_mode", "OFF", "", "GTID replication is always on"},
		{"skip-networking", "", "", "replication needs TCP"},
		{"socket", "/tmp/x.sock", "", "default socket"},
		{"port", "3307", "", "port attribute"},

		{"max_connections", "5\n[client]", "", "printable ASCII on one line"},
		{"sql_mode", "A # y", "", "'#'"},
		{"sql_mode", "'quoted'", "", `'\''`},
		{"ft_stopword_file", `C:\x`, "", `'\\'`},
		{"general_log_file", " /x", "", "blanks"},
		{"general_log_file", "/x ", "", "blanks"},
		{"general_log_file", "/tmp/ü", "", "printable ASCII"},
		{"max_connections", strings.Repeat("1", 4097), "", "at most 4096"},
	}
	for _, tt := range tests {
		got, err := ValidateSetting("replicas[0].settings", tt.name, tt.value)
		check(t, tt.name+"="+tt.value, err, tt.want)
		if tt.want == "" && got != tt.canon {
			t.Errorf("%s: canonical name %q, want %q", tt.name, got, tt.canon)
		}
		if err != nil && !strings.HasPrefix(err.Error(), `replicas[0].settings["`+tt.name+`"] = `) {
			t.Errorf("%s: error does not name the attribute: %v", tt.name, err)
		}
	}
}

func validCluster() Cluster {
	return Cluster{
		Primary:             Member{Host: "db1.example.com"},
		Replicas:            []Member{{Host: "db2.example.com"}, {Host: "10.0.0.13", ServerID: 13}},
		ReplicationUser:     "repl",
		ReplicationHost:     "10.0.0.%",
		ReplicationPassword: "repl-pw",
		TLS:                 &SourceTLS{CAFile: "/etc/mysql/ca.pem", VerifyServerCert: true},
		Databases:           []Database{{Name: "app"}, {Name: "shop", Charset: "utf8mb4", Collation: "utf8mb4_unicode_ci"}},
		Users: []User{
			{Name: "app", Host: "10.0.0.%", Password: "pw", Database: "app", Privileges: []string{"select", "insert"}},
			{Name: "ro", Password: "pw", Database: "shop", Privileges: []string{"SELECT"}},
		},
		Settings:      map[string]string{"max-connections": "100"},
		MaxLagSeconds: 30,
	}
}

func TestClusterValidate(t *testing.T) {
	t.Parallel()
	if err := validCluster().Validate(); err != nil {
		t.Fatalf("valid cluster: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Cluster)
		want   []string
	}{
		{"duplicate hosts", func(c *Cluster) { c.Replicas[1].Host = "DB2.example.com." },
			[]string{`replicas[1].ssh.host = "DB2.example.com." is not valid: is listed twice (also replicas[0].ssh.host)`}},
		{"primary as replica", func(c *Cluster) { c.Replicas[0].Host = "db1.example.com" },
			[]string{`replicas[0].ssh.host = "db1.example.com" is not valid: is the primary (primary.ssh.host)`}},
		{"duplicate explicit server ids", func(c *Cluster) { c.Primary.ServerID = 13 },
			[]string{`replicas[1].server_id = "13" is not valid: is also the server_id of primary`}},
		{"explicit collides with derived", func(c *Cluster) { c.Replicas[1].ServerID = int64(DeriveServerID("db2.example.com")) },
			[]string{`replicas[1].server_id = "` + strconv.FormatUint(uint64(DeriveServerID("db2.example.com")), 10) + `" is not valid: is also the server_id of replicas[0]`}},
		{"server id range", func(c *Cluster) { c.Replicas[1].ServerID = 4294967296 },
			[]string{`replicas[1].server_id = "4294967296" is not valid: must be between 1 and 4294967295`}},
		{"bad host", func(c *Cluster) { c.Replicas[0].Host = "db 2" }, []string{`replicas[0].ssh.host = "db 2" is not valid`}},
		{"bad db", func(c *Cluster) { c.Databases[1].Name = "mysql" }, []string{`databases[1].name = "mysql" is not valid: is a system schema`}},
		{"dup db", func(c *Cluster) { c.Databases[1].Name = "app" }, []string{`databases[1].name = "app" is not valid: is also databases[0].name`}},
		{"bad collation", func(c *Cluster) { c.Databases[1].Collation = "latin1_swedish_ci" }, []string{`databases[1].collation = "latin1_swedish_ci" is not valid: must be a collation of utf8mb4`}},
		{"bad user host", func(c *Cluster) { c.Users[0].Host = "10.0.0.0/8" },
			[]string{`users[0].host = "10.0.0.0/8" is not valid`}},
		{"bad user name", func(c *Cluster) { c.Users[1].Name = "r o" },
			[]string{`users[1].name = "r o" is not valid`}},
		{"bad privilege", func(c *Cluster) { c.Users[1].Privileges = []string{"SELECT", "FILE"} },
			[]string{`users[1].privileges[1] = "FILE" is not valid`}},
		{"bad grant db", func(c *Cluster) { c.Users[1].Database = "information_schema" },
			[]string{`users[1].database = "information_schema" is not valid`}},
		{"user is repl account", func(c *Cluster) { c.Users = append(c.Users, User{Name: "repl", Host: "10.0.0.%", Password: "p"}) },
			[]string{`users[2].name = "repl@10.0.0.%" is not valid: is the same account as replication_user`}},
		{"same account twice", func(c *Cluster) { c.Users[1].Name = "app"; c.Users[1].Host = "10.0.0.%" },
			[]string{`users[1].name = "app@10.0.0.%" is not valid: is the same account as users[0]`}},
		{"repl user", func(c *Cluster) { c.ReplicationUser = "a b" }, []string{`replication_user = "a b" is not valid`}},
		{"lag", func(c *Cluster) { c.MaxLagSeconds = -5 }, []string{`lag_threshold_seconds = "-5" is not valid`}},
		{"owned setting", func(c *Cluster) { c.Settings = map[string]string{"read_only": "OFF"} },
			[]string{`settings["read_only"] = "read_only" is not valid: is managed by the resource: use the member's role`}},
		{"bad setting name", func(c *Cluster) { c.Settings = map[string]string{"Max Connections": "1"} },
			[]string{`settings["Max Connections"] = "Max Connections" is not valid: setting names are lower-case`}},
		{"same setting twice", func(c *Cluster) {
			c.Settings = map[string]string{"max-connections": "1", "max_connections": "2"}
		},
			[]string{`settings["max_connections"] = "max_connections" is not valid: is the same setting as "max-connections"`}},
		{"bind", func(c *Cluster) { c.Primary.BindAddress = "0.0.0.0 #" }, []string{`primary.bind_address = "0.0.0.0 #" is not valid`}},
		{"unknown values are skipped", func(c *Cluster) { c.Replicas[0].Host = ""; c.Databases[0].Name = ""; c.Users[0].Name = "" }, nil},
		{"several at once", func(c *Cluster) { c.Replicas[0].Host = "a b"; c.Databases[0].Name = "a b" },
			[]string{`replicas[0].ssh.host = "a b" is not valid`, `databases[0].name = "a b" is not valid`}},
	}
	for _, tt := range tests {
		c := validCluster()
		tls := *c.TLS
		c.TLS = &tls
		tt.change(&c)
		err := c.Validate()
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%s: unexpected %v", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\ndoes not contain\n%s", tt.name, err, w)
			}
		}
		var fe *fault.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error is not a *fault.FieldError: %T", tt.name, err)
		}
	}
}

// TestRefusedSettings: settings that switch off the server's security,
// break the provider's access or change the charset its SQL is read in are
// refused, in every spelling the servers accept, naming the setting and
// why; harmless values of the charset settings pass.
func TestRefusedSettings(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, want string }{
		// issue 13 part 5: security off, code or SQL at start-up/connect
		{"skip-grant-tables", "", "skip-grant-tables is refused: it starts the server without authentication"},
		{"skip_grant_tables", "ON", "without authentication"},
		{"loose-skip-grant-tables", "", "without authentication"},
		{"enable-skip-grant-tables", "", "without authentication"},
		{"skip-grant", "", "is read as skip_grant_tables"},
		{"grant-tables", "0", "without authentication"},
		{"init-file", "/tmp/x.sql", "runs the SQL of a file at every start-up"},
		{"init_f", "/tmp/x.sql", "is read as init_file"},
		{"init-connect", "SET NAMES gbk", "runs SQL at the start of every connection"},
		{"loose_init_connect", "SET x=1", "every connection"},
		{"init-slave", "SET x=1", "replication SQL thread"},
		{"init_replica", "SET x=1", "replication SQL thread"},
		{"plugin-load", "x=x.so", "arbitrary code"},
		{"plugin-load-add", "auth_ed25519", "arbitrary code"},
		{"plugin_load_a", "x.so", "is read as plugin_load_add"},
		{"early-plugin-load", "keyring_file.so", "arbitrary code"},
		{"plugin-dir", "/tmp", "arbitrary code"},
		{"plugin_d", "/tmp", "is read as plugin_dir"},
		{"basedir", "/tmp", "arbitrary code"},
		{"character-sets-dir", "/tmp", "character set definitions"},
		{"secure-file-priv", "", "where SQL may read and write files"},
		{"secure_file_priv", "/", "allowed values: NULL"},
		{"secure-file", "/tmp", "is read as secure_file_priv"},
		{"user", "root", "operating-system account the server runs as"},
		{"loose-user", "root", "operating-system account"},
		{"unix-socket", "OFF", "the provider logs in with"},
		{"skip-unix-socket", "", "the provider logs in with"},
		// issue 13 part 1: the charset the provider's SQL is read in
		{"character-set-server", "gbk", "SQL injection"},
		{"character_set_server", "big5", "allowed values: utf8mb4, utf8mb3, utf8, latin1, ascii, binary"},
		{"loose-character-set-server", "sjis", "SQL injection"},
		{"character-set-serv", "cp932", "is read as character_set_server"},
		{"character_set_client", "gb18030", "SQL injection"},
		{"character-set-connection", "gbk", "SQL injection"},
		{"character-set-results", "gbk", "SQL injection"},
		{"default-character-set", "gbk", "SQL injection"},
		{"collation-server", "gbk_chinese_ci", "SQL injection"},
		{"collation_connection", "big5_chinese_ci", "SQL injection"},
		{"collation-s", "sjis_japanese_ci", "is read as collation_server"},
		{"skip-character-set-client-handshake", "", "ignores the character set clients ask for"},
		{"disable-character-set-client-handshake", "", "ignores the character set"},
		{"loose-skip-character-set-client-handshake", "", "ignores the character set"},
		{"character-set-client-handshake", "OFF", "allowed values: ON"},
		{"character_set_client_handshake", "0", "ignores the character set"},
		{"character-set-client-h", "0", "is read as character_set_client_handshake"},
		{"character-set-c", "gbk", "SQL injection"},
	}
	for _, tt := range tests {
		_, err := ValidateSetting("settings", tt.name, tt.value)
		if err == nil {
			t.Errorf("%s=%s: accepted, want refused (%s)", tt.name, tt.value, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `settings["`+tt.name+`"] = `) {
			t.Errorf("%s=%s: error %q, want it to name the attribute and contain %q", tt.name, tt.value, err, tt.want)
		}
	}
	for _, ok := range []struct{ name, value string }{
		{"character-set-server", "utf8mb4"}, {"character_set_server", "UTF8MB4"}, {"character-set-server", "latin1"},
		{"character-set-server", "utf8mb3"}, {"character-set-server", "utf8"}, {"character-set-server", "ascii"},
		{"character-set-server", "binary"}, {"collation-server", "utf8mb4_general_ci"}, {"collation_server", "latin1_swedish_ci"},
		{"collation-connection", "binary"}, {"character-set-client-handshake", "ON"}, {"enable-character-set-client-handshake", ""},
		{"character-set-client", "utf8mb4"}, {"secure-file-priv", "NULL"}, {"character-set-filesystem", "binary"},
		{"skip-name-resolve", ""}, {"local-infile", "0"}, {"datadir", "/srv/mysql"}, {"init-rpl-role", "MASTER"},
	} {
		if _, err := ValidateSetting("settings", ok.name, ok.value); err != nil {
			t.Errorf("%s=%s: refused, want accepted: %v", ok.name, ok.value, err)
		}
	}
}
