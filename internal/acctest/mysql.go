// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Out-of-band MySQL/MariaDB helpers for acceptance tests: they run the
// server's own client inside the host's container (docker exec), never
// through the provider's SSH path, so that they observe what the provider
// did instead of repeating it.

// SQLClient is the host's command-line client: mariadb on MariaDB hosts,
// mysql otherwise.
func (h Host) SQLClient() string {
	if h.Service == "mariadb" {
		return "mariadb"
	}
	return "mysql"
}

// adminArgs are the client's options for the admin's socket login: no TLS
// on MariaDB, whose client from 11.4 uses TLS and verifies the server's
// certificate by default (a server with server_tls has one for its
// addresses, not the socket).
func (h Host) adminArgs(args ...string) []string {
	out := append([]string{"exec", "-i", h.Container, h.SQLClient()}, args...)
	if h.Service == "mariadb" {
		out = append(out, "--skip-ssl")
	}
	return out
}

// TrySQL runs statements as the server's admin (socket authentication) and
// returns the output without column names (tab-separated, one row a line).
func (h Host) TrySQL(sql string) (string, error) {
	cmd := exec.Command("docker", h.adminArgs("--batch", "--skip-column-names")...)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", h.Name, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// SQL is TrySQL that fails the test on error.
func (h Host) SQL(t testing.TB, sql string) string {
	t.Helper()
	out, err := h.TrySQL(sql)
	if err != nil {
		t.Fatalf("%s: SQL %q: %v", h.Name, sql, err)
	}
	return out
}

// SQLValue runs a query that returns one value.
func (h Host) SQLValue(t testing.TB, sql string) string {
	t.Helper()
	return strings.TrimSpace(h.SQL(t, sql))
}

// SQLAs runs statements as an account over TCP to 127.0.0.1 on the host
// (how an application connects: no admin privileges). The password goes
// through the environment (MYSQL_PWD), never on a command line.
func (h Host) SQLAs(user, password, database, sql string) (string, error) {
	opts := []string{"-h", "127.0.0.1", "-u", user}
	if h.Service == "mariadb" {
		// TLS when the server offers it, unverified (127.0.0.1 is in no
		// certificate), as MySQL's client does by default.
		opts = append(opts, "--ssl", "--skip-ssl-verify-server-cert")
	}
	return h.sqlAs(opts, password, database, sql)
}

// SQLAsTLS is SQLAs to the host's address (as the lab's other hosts reach
// it) with the client's TLS forced off (caFile "") or on with the server's
// certificate verified against caFile (a path on the host) and the address.
func (h Host) SQLAsTLS(user, password, database, sql, caFile string) (string, error) {
	var tls []string
	switch {
	case caFile == "" && h.Service == "mariadb":
		tls = []string{"--skip-ssl"}
	case caFile == "":
		// The RSA key exchange lets caching_sha2_password log in without
		// TLS when its cache is empty (after a restart), so the refusal
		// is the account's REQUIRE SSL (1045), not the plugin's (2061).
		tls = []string{"--ssl-mode=DISABLED", "--get-server-public-key"}
	case h.Service == "mariadb":
		tls = []string{"--ssl", "--ssl-ca=" + caFile, "--ssl-verify-server-cert"}
	default:
		tls = []string{"--ssl-mode=VERIFY_IDENTITY", "--ssl-ca=" + caFile}
	}
	return h.sqlAs(append(tls, "-h", h.Address, "-u", user), password, database, sql)
}

func (h Host) sqlAs(opts []string, password, database, sql string) (string, error) {
	args := append([]string{"exec", "-i", "-e", "MYSQL_PWD", h.Container, h.SQLClient(), "--batch", "--skip-column-names", "--protocol=TCP"}, opts...)
	if database != "" {
		args = append(args, "-D", database)
	}
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+password)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", h.Name, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// StatusCounter reads a global status counter (0 when it does not exist).
func (h Host) StatusCounter(t testing.TB, name string) int {
	t.Helper()
	out := h.SQL(t, fmt.Sprintf("SHOW GLOBAL STATUS LIKE '%s'", name))
	f := strings.Fields(out)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("%s: status %s = %q", h.Name, name, f[1])
	}
	return n
}

// ChangeSourceCounter is how many CHANGE MASTER / CHANGE REPLICATION
// SOURCE statements the server ran since it started.
func (h Host) ChangeSourceCounter(t testing.TB) int {
	t.Helper()
	if h.Service == "mariadb" {
		return h.StatusCounter(t, "Com_change_master")
	}
	return h.StatusCounter(t, "Com_change_replication_source")
}

// ReplicaField reads one field of SHOW SLAVE STATUS / SHOW REPLICA STATUS
// by column name ("" when the server is not a replica).
func (h Host) ReplicaField(t testing.TB, field string) string {
	t.Helper()
	f, err := h.TryReplicaStatus()
	if err != nil {
		t.Fatal(err)
	}
	return f[field]
}

// TryReplicaStatus reads SHOW SLAVE STATUS / SHOW REPLICA STATUS as the
// admin, by column name (empty when the server is not a replica).
func (h Host) TryReplicaStatus() (map[string]string, error) {
	stmt := "SHOW REPLICA STATUS"
	if h.Service == "mariadb" {
		stmt = "SHOW SLAVE STATUS"
	}
	cmd := exec.Command("docker", h.adminArgs("--batch")...)
	cmd.Stdin = strings.NewReader(stmt)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w: %s", h.Name, stmt, err, out)
	}
	fields := map[string]string{}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < 2 {
		return fields, nil
	}
	cols, vals := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	for i, c := range cols {
		if i < len(vals) {
			fields[c] = vals[i]
		}
	}
	return fields, nil
}

// WriteRows inserts rows id from..from+n-1 into db.table (id INT PRIMARY
// KEY, v VARCHAR), creating the table, as the admin.
func (h Host) WriteRows(t testing.TB, db, table string, from, n int, payload int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS `%s`.`%s` (id INT PRIMARY KEY, v VARCHAR(2000)) ENGINE=InnoDB;\n", db, table)
	const batch = 500
	for i := 0; i < n; i += batch {
		fmt.Fprintf(&b, "INSERT INTO `%s`.`%s` (id, v) VALUES ", db, table)
		for j := i; j < min(i+batch, n); j++ {
			if j > i {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "(%d, REPEAT('%c', %d))", from+j, 'a'+rune((from+j)%26), payload)
		}
		b.WriteString(";\n")
	}
	h.SQL(t, b.String())
}

// Checksums returns CHECKSUM TABLE of each db.table.
func (h Host) Checksums(t testing.TB, tables ...string) map[string]string {
	t.Helper()
	out := h.SQL(t, "CHECKSUM TABLE "+strings.Join(tables, ", "))
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m
}

// Eventually polls cond every 250 ms until it returns "" (met) or timeout;
// the last non-empty answer says why it failed.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not met within %s: %s", timeout, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// CleanMySQL puts a host back the way the lab starts it, whatever a test
// left behind: replication stopped and forgotten, the given databases and
// accounts dropped (outside the binary log), read-only off, and the
// provider's option files removed (with a restart when one was there).
func (h Host) CleanMySQL(t testing.TB, databases []string, accounts []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("SET SESSION sql_log_bin = 0;\n")
	if h.Service == "mariadb" {
		b.WriteString("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF;\n")
	} else {
		b.WriteString("STOP REPLICA; RESET REPLICA ALL; SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF;\n")
	}
	for _, db := range databases {
		fmt.Fprintf(&b, "DROP DATABASE IF EXISTS `%s`;\n", db)
	}
	for _, a := range accounts {
		fmt.Fprintf(&b, "DROP USER IF EXISTS %s;\n", a)
	}
	if _, err := h.TrySQL(b.String()); err != nil {
		t.Errorf("cleaning %s: %v", h.Name, err)
	}
	out, err := h.TryExec("sh", "-c", `found=0
for f in /etc/mysql/mariadb.conf.d/60-foobar.cnf /etc/mysql/mysql.conf.d/zz-foobar.cnf /etc/mysql/foobar-replication-ca.pem; do
  for x in "$f" "$f".foobar-*; do
    if [ -e "$x" ]; then rm -f -- "$x"; found=1; fi
  done
done
echo $found`)
	if err != nil {
		t.Errorf("cleaning %s: %v", h.Name, err)
		return
	}
	if strings.TrimSpace(out) == "1" {
		if _, err := h.TryExec("systemctl", "restart", h.Service); err != nil {
			t.Errorf("cleaning %s: restart: %v", h.Name, err)
		}
	}
}

// Writer writes rows continuously to whichever of its hosts accepts them
// (the primary, as an application account: read-only refuses it), and
// records every acknowledged write. A write that fails is retried on the
// next host; an unacknowledged write is not counted (it may or may not have
// committed).
type Writer struct {
	hosts              []Host
	user, password, db string
	table              string

	mu       sync.Mutex
	acked    []int
	failures int
	byHost   map[string]int
	stop     chan struct{}
	done     chan struct{}
}

// StartWriter creates db.table on hosts[0] (as the admin) and starts
// writing.
func StartWriter(t testing.TB, hosts []Host, user, password, db, table string) *Writer {
	t.Helper()
	hosts[0].SQL(t, fmt.Sprintf("CREATE TABLE IF NOT EXISTS `%s`.`%s` (id INT PRIMARY KEY, host VARCHAR(64))", db, table))
	w := &Writer{hosts: hosts, user: user, password: password, db: db, table: table,
		byHost: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *Writer) run() {
	defer close(w.done)
	cur := 0
	for id := 1; ; id++ {
		select {
		case <-w.stop:
			return
		default:
		}
		h := w.hosts[cur]
		_, err := h.SQLAs(w.user, w.password, w.db, fmt.Sprintf("INSERT INTO `%s` (id, host) VALUES (%d, '%s')", w.table, id, h.Name))
		w.mu.Lock()
		if err == nil {
			w.acked = append(w.acked, id)
			w.byHost[h.Name]++
		} else {
			w.failures++
			cur = (cur + 1) % len(w.hosts)
		}
		w.mu.Unlock()
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Stop stops writing and returns the acknowledged ids, the number of failed
// attempts and the acknowledged writes per host.
func (w *Writer) Stop() (acked []int, failures int, byHost map[string]int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked, w.failures, w.byHost
}

// Acked is how many writes were acknowledged so far.
func (w *Writer) Acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}
