// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestIdentifyServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version, comment string
		want             Flavor
		wantV            Version
		wantErr          bool
	}{
		{"10.11.18-MariaDB-0+deb12u1", "Debian 12", MariaDB, V(10, 11, 18), false},
		{"10.11.19-MariaDB-0+deb12u1-log", "Debian 12", MariaDB, V(10, 11, 19), false},
		{"11.8.3-MariaDB-0+deb13u1 from Debian", "-- Please help get to 10k stars at https://github.com/MariaDB/Server", MariaDB, V(11, 8, 3), false},
		{"5.5.5-10.6.12-MariaDB", "mariadb.org binary distribution", MariaDB, V(10, 6, 12), false},
		{"9.7.0", "MySQL Community Server - GPL", MySQL, V(9, 7, 0), false},
		{"9.7.4", "(Debian)", MySQL, V(9, 7, 4), false},
		{"8.0.36-0ubuntu0.22.04.1", "(Ubuntu)", MySQL, V(8, 0, 36), false},
		{"8.0.35-27", "Percona Server (GPL), Release '27', Revision '2f8eeab2'", MySQL, V(8, 0, 35), false},
		{"", "", FlavorUnknown, Version{}, true},
		{"garbage", "MySQL", FlavorUnknown, Version{}, true},
		{"99999.0.0", "", FlavorUnknown, Version{}, true},
	}
	for _, tt := range tests {
		got, err := IdentifyServer(tt.version, tt.comment)
		if tt.wantErr {
			if err == nil {
				t.Errorf("IdentifyServer(%q, %q) = %v, want error", tt.version, tt.comment, got)
			}
			continue
		}
		if err != nil || got.Flavor != tt.want || got.Version != tt.wantV {
			t.Errorf("IdentifyServer(%q, %q) = %v, %v; want %v %v", tt.version, tt.comment, got, err, tt.want, tt.wantV)
		}
	}
}

func TestNewDialectSupport(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		f  Flavor
		v  Version
		ok bool
	}{
		{MariaDB, V(10, 4, 30), false},
		{MariaDB, V(10, 5, 0), true},
		{MariaDB, V(11, 8, 3), true},
		{MySQL, V(5, 7, 44), false},
		{MySQL, V(8, 0, 0), true},
		{MySQL, V(9, 7, 0), true},
		{FlavorUnknown, V(9, 7, 0), false},
	} {
		_, err := NewDialect(tt.f, tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("NewDialect(%v, %v) error = %v, want ok=%t", tt.f, tt.v, err, tt.ok)
		}
	}
}

// dialectCase is what one flavor/version must answer.
type dialectCase struct {
	f    Flavor
	v    Version
	want map[string]string
}

func TestDialectTable(t *testing.T) {
	t.Parallel()
	src := SourceConfig{Host: "db1.example.com", Port: 3306, User: "repl", Password: "pw'1"}
	tlsSrc := src
	tlsSrc.TLS = &SourceTLS{CAFile: "/etc/mysql/ca.pem", VerifyServerCert: true}
	cases := []dialectCase{
		{MariaDB, V(10, 11, 18), map[string]string{
			"client":         "mariadb --batch --column-names --skip-raw --skip-force --skip-reconnect --connect-timeout=10 --default-character-set=utf8mb4 --init-command=SET NAMES utf8mb4 --skip-ssl",
			"dump":           "mariadb-dump --default-character-set=utf8mb4 --single-transaction --skip-ssl --gtid --master-data=1 --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"validate":       "/bin/sh -c exec \"$@\" >/dev/null sh /usr/sbin/mariadbd --verbose --help",
			"service":        "mariadb",
			"settings_path":  "/etc/mysql/mariadb.conf.d/60-foobar.cnf",
			"start":          "START SLAVE",
			"stop":           "STOP SLAVE",
			"reset":          "RESET SLAVE ALL",
			"show":           "SHOW SLAVE STATUS",
			"reset_binlogs":  "RESET MASTER",
			"adopt":          "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos",
			"read_only_on":   "SET GLOBAL read_only = ON",
			"read_only_off":  "SET GLOBAL read_only = OFF",
			"gtid_position":  "SELECT @@GLOBAL.gtid_binlog_pos AS gtid_position",
			"gtid_wait":      "SELECT MASTER_GTID_WAIT('0-1-5', 30) AS result",
			"change":         "CHANGE MASTER TO MASTER_HOST = 'db1.example.com', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw''1', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_VERIFY_SERVER_CERT = 0",
			"change_tls":     "CHANGE MASTER TO MASTER_HOST = 'db1.example.com', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw''1', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1",
			"grant_repl":     "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'10.0.0.%'",
			"io_field":       "Slave_IO_Running",
			"lag_field":      "Seconds_Behind_Master",
			"gtid_field":     "Gtid_IO_Pos",
			"max_user":       "80",
			"dynamic":        "gtid_strict_mode max_connections read_only",
			"static":         "bind_address log_bin relay_log server_id super_read_only",
			"grant_db":       "GRANT DELETE HISTORY, SELECT ON `app\\_db`.* TO 'app'@'%'",
			"system_schemas": "information_schema mysql performance_schema sys",
		}},
		{MariaDB, V(11, 8, 3), map[string]string{
			"client":        "mariadb --batch --column-names --skip-raw --skip-force --skip-reconnect --connect-timeout=10 --default-character-set=utf8mb4 --init-command=SET NAMES utf8mb4 --skip-ssl",
			"service":       "mariadb",
			"settings_path": "/etc/mysql/mariadb.conf.d/60-foobar.cnf",
			"start":         "START SLAVE",
			"change_tls":    "CHANGE MASTER TO MASTER_HOST = 'db1.example.com', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw''1', MASTER_CONNECT_RETRY = 5, MASTER_USE_GTID = slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1",
			"read_only_on":  "SET GLOBAL read_only = ON",
		}},
		{MySQL, V(8, 0, 21), map[string]string{
			"client":        "mysql --batch --column-names --skip-raw --skip-force --skip-reconnect --connect-timeout=10 --default-character-set=utf8mb4 --init-command=SET NAMES utf8mb4",
			"dump":          "mysqldump --default-character-set=utf8mb4 --single-transaction --master-data=2 --set-gtid-purged=ON --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"validate":      "/usr/sbin/mysqld --validate-config",
			"start":         "START SLAVE",
			"reset":         "RESET SLAVE ALL",
			"show":          "SHOW SLAVE STATUS",
			"reset_binlogs": "RESET MASTER",
			"adopt":         "",
			"change":        "CHANGE MASTER TO MASTER_HOST = 'db1.example.com', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw''1', MASTER_CONNECT_RETRY = 5, MASTER_AUTO_POSITION = 1, MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_VERIFY_SERVER_CERT = 0, GET_MASTER_PUBLIC_KEY = 1",
			"io_field":      "Slave_IO_Running",
			"lag_field":     "Seconds_Behind_Master",
		}},
		{MySQL, V(8, 0, 23), map[string]string{
			"start":  "START REPLICA",
			"show":   "SHOW REPLICA STATUS",
			"dump":   "mysqldump --default-character-set=utf8mb4 --single-transaction --master-data=2 --set-gtid-purged=ON --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"change": "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db1.example.com', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'pw''1', SOURCE_CONNECT_RETRY = 5, SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 0, SOURCE_SSL_CA = '', SOURCE_SSL_VERIFY_SERVER_CERT = 0, GET_SOURCE_PUBLIC_KEY = 1",
		}},
		{MySQL, V(8, 0, 36), map[string]string{
			"dump":          "mysqldump --default-character-set=utf8mb4 --single-transaction --source-data=2 --set-gtid-purged=ON --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"reset_binlogs": "RESET MASTER",
			"io_field":      "Replica_IO_Running",
		}},
		{MySQL, V(9, 7, 0), map[string]string{
			"client":         "mysql --batch --column-names --skip-raw --skip-force --skip-reconnect --connect-timeout=10 --default-character-set=utf8mb4 --init-command=SET NAMES utf8mb4",
			"dump":           "mysqldump --default-character-set=utf8mb4 --single-transaction --source-data=2 --set-gtid-purged=ON --routines --triggers --events --hex-blob --max-allowed-packet=1073741824 --databases app shop",
			"validate":       "/usr/sbin/mysqld --validate-config",
			"service":        "mysql",
			"settings_path":  "/etc/mysql/mysql.conf.d/zz-foobar.cnf",
			"start":          "START REPLICA",
			"stop":           "STOP REPLICA",
			"reset":          "RESET REPLICA ALL",
			"show":           "SHOW REPLICA STATUS",
			"reset_binlogs":  "RESET BINARY LOGS AND GTIDS",
			"adopt":          "",
			"read_only_on":   "SET GLOBAL read_only = ON; SET GLOBAL super_read_only = ON",
			"read_only_off":  "SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF",
			"gtid_position":  "SELECT @@GLOBAL.gtid_executed AS gtid_position",
			"gtid_wait":      "SELECT WAIT_FOR_EXECUTED_GTID_SET('0-1-5', 30) AS result",
			"change":         "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db1.example.com', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'pw''1', SOURCE_CONNECT_RETRY = 5, SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 0, SOURCE_SSL_CA = '', SOURCE_SSL_VERIFY_SERVER_CERT = 0, GET_SOURCE_PUBLIC_KEY = 1",
			"change_tls":     "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db1.example.com', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'pw''1', SOURCE_CONNECT_RETRY = 5, SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 1, SOURCE_SSL_CA = '/etc/mysql/ca.pem', SOURCE_SSL_VERIFY_SERVER_CERT = 1",
			"grant_repl":     "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'10.0.0.%'",
			"io_field":       "Replica_IO_Running",
			"lag_field":      "Seconds_Behind_Source",
			"gtid_field":     "Retrieved_Gtid_Set",
			"max_user":       "32",
			"dynamic":        "max_connections read_only super_read_only",
			"static":         "bind_address gtid_strict_mode log_bin relay_log server_id",
			"system_schemas": "information_schema mysql performance_schema sys",
		}},
	}
	join := func(ss []Stmt) string {
		parts := make([]string, len(ss))
		for i, s := range ss {
			parts[i] = s.SQL()
		}
		return strings.Join(parts, "; ")
	}
	for _, c := range cases {
		d := mustDialect(t, c.f, c.v)
		got := map[string]string{}
		answer := func(key string, f func() (string, error)) {
			if _, ok := c.want[key]; !ok {
				return
			}
			v, err := f()
			if err != nil {
				v = "error: " + err.Error()
			}
			got[key] = v
		}
		answer("client", func() (string, error) { return strings.Join(d.ClientArgv(), " "), nil })
		answer("dump", func() (string, error) {
			a, err := d.DumpArgv([]string{"app", "shop"})
			return strings.Join(a, " "), err
		})
		answer("validate", func() (string, error) {
			a, err := d.ValidateConfigArgv("")
			return strings.Join(a, " "), err
		})
		answer("service", func() (string, error) { return d.Service, nil })
		answer("settings_path", func() (string, error) { return d.SettingsPath, nil })
		answer("start", func() (string, error) { return d.StartReplica().SQL(), nil })
		answer("stop", func() (string, error) { return d.StopReplica().SQL(), nil })
		answer("reset", func() (string, error) { return d.ResetReplicaAll().SQL(), nil })
		answer("show", func() (string, error) { return d.ShowReplicaStatus().SQL(), nil })
		answer("reset_binlogs", func() (string, error) { return d.ResetBinaryLogs().SQL(), nil })
		answer("adopt", func() (string, error) { s, _ := d.AdoptBinlogPosition(); return s.SQL(), nil })
		answer("read_only_on", func() (string, error) { return join(d.SetReadOnly(true)), nil })
		answer("read_only_off", func() (string, error) { return join(d.SetReadOnly(false)), nil })
		answer("gtid_position", func() (string, error) { return d.GTIDPositionQuery().SQL(), nil })
		answer("gtid_wait", func() (string, error) {
			s, err := d.WaitForGTID("0-1-5", 29500*time.Millisecond)
			return s.SQL(), err
		})
		answer("change", func() (string, error) { s, err := d.ChangeSource(src); return s.SQL(), err })
		answer("change_tls", func() (string, error) { s, err := d.ChangeSource(tlsSrc); return s.SQL(), err })
		answer("grant_repl", func() (string, error) {
			s, err := d.GrantReplication(Account{User: "repl", Host: "10.0.0.%"})
			return s.SQL(), err
		})
		answer("grant_db", func() (string, error) {
			s, err := d.GrantDatabase(Account{User: "app", Host: "%"}, "app_db", []string{"select", "delete  history"})
			return s.SQL(), err
		})
		answer("io_field", func() (string, error) { return d.Status.IORunning, nil })
		answer("lag_field", func() (string, error) { return d.Status.SecondsBehind, nil })
		answer("gtid_field", func() (string, error) { return d.Status.GTIDPosition, nil })
		answer("max_user", func() (string, error) { return strconv.Itoa(d.MaxUserNameLen), nil })
		answer("system_schemas", func() (string, error) { return strings.Join(d.SystemSchemas, " "), nil })
		answer("dynamic", func() (string, error) { return filterNames(c.want["dynamic"], d.IsDynamic, true), nil })
		answer("static", func() (string, error) { return filterNames(c.want["static"], d.IsDynamic, false), nil })
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.f, c.v, diff)
		}
	}
}

// filterNames keeps the names for which pred returns want.
func filterNames(names string, pred func(string) bool, want bool) string {
	var out []string
	for _, n := range strings.Fields(names) {
		if pred(n) == want {
			out = append(out, n)
		}
	}
	return strings.Join(out, " ")
}

func TestProbeAndLoadArgv(t *testing.T) {
	t.Parallel()
	want := []string{"/bin/sh", "-c", probeClientScript, "sh",
		"--batch", "--column-names", "--skip-raw", "--skip-force", "--skip-reconnect", "--connect-timeout=10", "--default-character-set=utf8mb4", "--init-command=SET NAMES utf8mb4"}
	if diff := cmp.Diff(want, ProbeClientArgv()); diff != "" {
		t.Errorf("ProbeClientArgv (-want +got):\n%s", diff)
	}
	d := mustDialect(t, MySQL, V(9, 7, 0))
	got := d.LoadDumpArgv()
	if got[len(got)-1] != "--init-command=SET NAMES utf8mb4, SESSION sql_log_bin = 0" {
		t.Errorf("LoadDumpArgv does not keep the load out of the binlog: %q", got)
	}
	a, err := d.ValidateConfigArgv("/etc/mysql/my.cnf")
	if err != nil || strings.Join(a, " ") != "/usr/sbin/mysqld --defaults-file=/etc/mysql/my.cnf --validate-config" {
		t.Errorf("ValidateConfigArgv = %q, %v", a, err)
	}
	if _, err := d.ValidateConfigArgv("relative.cnf"); err == nil {
		t.Error("ValidateConfigArgv accepted a relative defaults file")
	}
	if _, err := d.DumpArgv(nil); err == nil {
		t.Error("DumpArgv accepted no databases")
	}
	for _, bad := range []string{"mysql", "--all-databases", "a b", "-x"} {
		if _, err := d.DumpArgv([]string{bad}); err == nil {
			t.Errorf("DumpArgv accepted database %q", bad)
		}
	}
	if got := d.UserDatabasesQuery().SQL(); got != "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys') ORDER BY schema_name" {
		t.Errorf("UserDatabasesQuery = %s", got)
	}
}

func TestBuilders(t *testing.T) {
	t.Parallel()
	ma := mustDialect(t, MariaDB, V(10, 11, 18))
	my := mustDialect(t, MySQL, V(9, 7, 0))
	app := Account{User: "app", Host: "10.0.0.%"}
	tests := []struct {
		name string
		got  func() (Stmt, error)
		want string // "" means an error is expected, wantErr its text
		err  string
	}{
		{"create user", func() (Stmt, error) { return my.CreateUser(app, `p'w\`, UserOptions{}) },
			`CREATE USER IF NOT EXISTS 'app'@'10.0.0.%' IDENTIFIED BY 'p''w\\' REQUIRE NONE`, ""},
		{"alter user ssl", func() (Stmt, error) { return ma.AlterUserPassword(app, "pw", UserOptions{RequireSSL: true}) },
			`ALTER USER 'app'@'10.0.0.%' IDENTIFIED BY 'pw' REQUIRE SSL`, ""},
		{"drop user", func() (Stmt, error) { return ma.DropUser(app) }, `DROP USER IF EXISTS 'app'@'10.0.0.%'`, ""},
		{"create db default", func() (Stmt, error) { return my.CreateDatabase(Database{Name: "shop"}) },
			"CREATE DATABASE IF NOT EXISTS `shop` CHARACTER SET utf8mb4", ""},
		{"create db collation", func() (Stmt, error) {
			return ma.CreateDatabase(Database{Name: "shop-2", Charset: "utf8mb4", Collation: "utf8mb4_unicode_ci"})
		}, "CREATE DATABASE IF NOT EXISTS `shop-2` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", ""},
		{"grant all", func() (Stmt, error) { return my.GrantDatabase(app, "shop", []string{"all"}) },
			"GRANT ALL PRIVILEGES ON `shop`.* TO 'app'@'10.0.0.%'", ""},
		{"revoke", func() (Stmt, error) { return my.RevokeDatabase(app, "shop", []string{"UPDATE", "select", "SELECT"}) },
			"REVOKE SELECT, UPDATE ON `shop`.* FROM 'app'@'10.0.0.%'", ""},
		{"set global int", func() (Stmt, error) { return my.SetGlobal("max-connections", "500") }, "SET GLOBAL max_connections = 500", ""},
		{"set global size", func() (Stmt, error) { return my.SetGlobal("max_allowed_packet", "64M") }, "SET GLOBAL max_allowed_packet = 67108864", ""},
		{"set global string", func() (Stmt, error) { return my.SetGlobal("sql_mode", "STRICT_TRANS_TABLES,NO_ZERO_DATE") },
			"SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'", ""},
		{"set global on", func() (Stmt, error) { return ma.SetGlobal("slow_query_log", "on") }, "SET GLOBAL slow_query_log = ON", ""},
		{"show variables", func() (Stmt, error) { return ma.ShowVariables("read_only", "gtid_binlog_pos") },
			"SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'gtid_binlog_pos')", ""},

		{"mysql user too long", func() (Stmt, error) {
			return my.CreateUser(Account{User: strings.Repeat("u", 33), Host: "%"}, "pw", UserOptions{})
		}, "", "at most 32 characters"},
		{"mariadb user 80", func() (Stmt, error) { return ma.DropUser(Account{User: strings.Repeat("u", 80), Host: "%"}) }, "DROP USER IF EXISTS '" + strings.Repeat("u", 80) + "'@'%'", ""},
		{"bad host", func() (Stmt, error) { return ma.DropUser(Account{User: "a", Host: "x'; DROP"}) }, "", `user.host = "x'; DROP" is not valid`},
		{"empty password", func() (Stmt, error) { return my.CreateUser(app, "", UserOptions{}) }, "", "user.password is not valid: must not be empty"},
		{"grant option", func() (Stmt, error) { return my.GrantDatabase(app, "shop", []string{"GRANT OPTION"}) }, "", "not minimal"},
		{"delete history on mysql", func() (Stmt, error) { return my.GrantDatabase(app, "shop", []string{"DELETE HISTORY"}) }, "", "is not a database privilege"},
		{"system schema", func() (Stmt, error) { return my.CreateDatabase(Database{Name: "MySQL"}) }, "", "system schema"},
		{"set global static", func() (Stmt, error) { return my.SetGlobal("innodb_log_file_size", "1G") }, "", "needs a restart"},
		{"set global owned", func() (Stmt, error) { return my.SetGlobal("read_only", "ON") }, "", "managed by the resource"},
		{"mysql source password", func() (Stmt, error) {
			return my.ChangeSource(SourceConfig{Host: "db1", User: "repl", Password: strings.Repeat("p", 33)})
		}, "", "at most 32 characters"},
		{"mariadb source password 96", func() (Stmt, error) {
			s, err := ma.ChangeSource(SourceConfig{Host: "db1", User: "repl", Password: strings.Repeat("p", 97)})
			return s, err
		}, "", "at most 96 characters"},
		{"relative ca", func() (Stmt, error) {
			return ma.ChangeSource(SourceConfig{Host: "db1", User: "repl", Password: "x", TLS: &SourceTLS{CAFile: "ca.pem"}})
		}, "", "tls.ca_file"},
		{"bad source host", func() (Stmt, error) {
			return ma.ChangeSource(SourceConfig{Host: "db1 ; x", User: "repl", Password: "x"})
		}, "", "source.host"},
		{"bad gtid", func() (Stmt, error) { return ma.WaitForGTID("0-1-5'", time.Second) }, "", "never has"},
	}
	for _, tt := range tests {
		s, err := tt.got()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error = %v, want it to contain %q (statement %q)", tt.name, err, tt.err, s.SQL())
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s.SQL() != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, s.SQL(), tt.want)
		}
	}
}

func TestParseDaemonVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		out     string
		flavor  Flavor
		version string
	}{
		{"/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n", MariaDB, "10.11.18-MariaDB-0+deb12u1"},
		{"/usr/sbin/mysqld  Ver 9.7.4-2 for Linux on x86_64 ((Debian))\n", MySQL, "9.7.4-2"},
	}
	for _, c := range cases {
		f, v, err := ParseDaemonVersion(c.out)
		if err != nil || f != c.flavor || v != c.version {
			t.Errorf("ParseDaemonVersion(%q) = %v, %q, %v; want %v, %q", c.out, f, v, err, c.flavor, c.version)
		}
	}
	if _, _, err := ParseDaemonVersion("sh: mysqld: not found"); err == nil {
		t.Error("want an error for output without a version")
	}
}

func TestExporterAccount(t *testing.T) {
	t.Parallel()
	a := Account{User: "foobar_exporter", Host: "localhost"}
	for _, c := range []struct {
		f    Flavor
		v    Version
		want string
	}{
		{MariaDB, V(10, 11, 6), "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'foobar_exporter'@'localhost'"},
		{MySQL, V(8, 4, 0), "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'foobar_exporter'@'localhost'"},
	} {
		d, err := NewDialect(c.f, c.v)
		if err != nil {
			t.Fatal(err)
		}
		script := string(d.Script(d.ExporterScriptOptions(), d.ExporterAccount(a, "it's-a-pw")...))
		for _, want := range []string{"SET SESSION sql_log_bin = 0", c.want, "GRANT SELECT ON performance_schema.* TO 'foobar_exporter'@'localhost'",
			"CREATE USER IF NOT EXISTS 'foobar_exporter'@'localhost' IDENTIFIED BY 'it''s-a-pw' WITH MAX_USER_CONNECTIONS 3"} {
			if !strings.Contains(script, want) {
				t.Errorf("%v: script lacks %q:\n%s", c.f, want, script)
			}
		}
	}
}

// TestExporterSuperReadOnly: on MySQL the exporter's account scripts lift
// super_read_only only when it was ON and the session is outside the binary
// log, run the account statements, and put it back as the last statement;
// the client goes on past a failure (so that last statement runs) and the
// wrapper still fails on an ERROR line. MariaDB's scripts are unchanged.
func TestExporterSuperReadOnly(t *testing.T) {
	t.Parallel()
	a := Account{User: "foobar_exporter", Host: "localhost"}
	my := mustDialect(t, MySQL, V(9, 7, 4))
	for name, stmts := range map[string][]Stmt{"create": my.ExporterAccount(a, "Exp-0rter-pw-42"), "drop": my.DropExporterAccount(a)} {
		lines := strings.Split(strings.TrimSuffix(string(my.Script(my.ExporterScriptOptions(), stmts...)), ";\n"), ";\n")
		want := []string{
			"SET NAMES utf8mb4",
			"SET SESSION sql_mode = ",
			"SET SESSION sql_log_bin = 0",
			"SET SESSION lock_wait_timeout = 30",
			"SET @foobar_super_read_only = @@GLOBAL.super_read_only",
			"SET GLOBAL super_read_only = IF(@foobar_super_read_only = 1 AND @@SESSION.sql_log_bin = 0, 0, @@GLOBAL.super_read_only)",
		}
		if len(lines) < len(want)+2 {
			t.Fatalf("%s: script too short:\n%s", name, strings.Join(lines, "\n"))
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("%s: line %d is %q, want %q", name, i, lines[i], w)
			}
		}
		body := lines[len(want) : len(lines)-1]
		if name == "drop" && (len(body) != 1 || body[0] != "DROP USER IF EXISTS 'foobar_exporter'@'localhost'") {
			t.Errorf("drop: between the lift and the restore: %q", body)
		}
		if name == "create" && (len(body) != 4 || !strings.HasPrefix(body[0], "CREATE USER IF NOT EXISTS ") || !strings.HasPrefix(body[3], "GRANT SELECT ON performance_schema")) {
			t.Errorf("create: between the lift and the restore: %q", body)
		}
		if got, w := lines[len(lines)-1], "SET GLOBAL super_read_only = IF(@foobar_super_read_only = 1, 1, @@GLOBAL.super_read_only)"; got != w {
			t.Errorf("%s: last statement is %q, want %q", name, got, w)
		}
		if strings.Count(strings.Join(lines, "\n"), "SET GLOBAL super_read_only") != 2 {
			t.Errorf("%s: super_read_only is set more than twice", name)
		}
	}
	opts := my.ExporterScriptOptions()
	if !opts.NoBinlog || !opts.ContinueOnError || opts.LockWaitTimeout <= 0 {
		t.Errorf("MySQL exporter options = %+v, want NoBinlog, ContinueOnError and a lock wait timeout", opts)
	}
	argv := strings.Join(my.clientArgvFor(opts), " ")
	if !strings.Contains(argv, " --force ") || strings.Contains(argv, "--skip-force") || !strings.HasPrefix(argv, "/bin/sh -c ") {
		t.Errorf("MySQL exporter client argv: %s", argv)
	}
	if got := strings.Join(my.clientArgvFor(ScriptOptions{NoBinlog: true}), " "); got != strings.Join(my.ClientArgv(), " ") {
		t.Errorf("without ContinueOnError the argv changed: %s", got)
	}

	ma := mustDialect(t, MariaDB, V(11, 8, 3))
	if s := string(ma.Script(ma.ExporterScriptOptions(), ma.ExporterAccount(a, "Exp-0rter-pw-42")...)); strings.Contains(s, "super_read_only") {
		t.Errorf("MariaDB script touches super_read_only:\n%s", s)
	}
	if o := ma.ExporterScriptOptions(); o != (ScriptOptions{NoBinlog: true}) {
		t.Errorf("MariaDB exporter options = %+v, want NoBinlog only", o)
	}
	if got := ma.DropExporterAccount(a); len(got) != 1 {
		t.Errorf("MariaDB drop: %v", got)
	}
}

// TestForceClientScript runs forceClientScript with sh and a fake client:
// an ERROR line on stderr fails even when the client exits 0, stdout passes
// through, a non-zero exit is kept, and a clean run succeeds.
func TestForceClientScript(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, client string
		rc           int
		stdout       string
	}{
		{"clean", "echo out; exit 0", 0, "out\n"},
		{"error hidden by --force", "echo out; echo 'ERROR 1290 (HY000) at line 6: --super-read-only' >&2; exit 0", 1, "out\n"},
		{"warning only", "echo 'mysql: [Warning] something' >&2; exit 0", 0, ""},
		{"client failed", "echo 'ERROR 2002 (HY000): no socket' >&2; exit 2", 2, ""},
	} {
		cmd := exec.Command("/bin/sh", "-c", forceClientScript, "sh", "/bin/sh", "-c", c.client)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		rc := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			rc = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if rc != c.rc || out.String() != c.stdout {
			t.Errorf("%s: rc %d stdout %q (stderr %q), want rc %d stdout %q", c.name, rc, out.String(), errb.String(), c.rc, c.stdout)
		}
		if c.rc != 0 && !strings.Contains(errb.String(), "ERROR ") {
			t.Errorf("%s: stderr %q lost the client's error", c.name, errb.String())
		}
	}
}
