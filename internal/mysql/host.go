// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/remote"
)

// ReplicationCAFile is where the provider writes the replication channel's
// CA bundle on replicas (SourceTLS.CAPEM).
const ReplicationCAFile = "/etc/mysql/foobar-replication-ca.pem"

// applyLock is the apply engine's lock for the server's files on a host.
const applyLock = "mysql"

// ServerPackage is the Debian package that installs a flavor's server. The
// provider installs it on Debian-family hosts only (apt-get): the rest of
// this package expects Debian's layout (/etc/mysql, the service names).
func ServerPackage(f Flavor) string {
	if f == MySQL {
		return "mysql-server"
	}
	return "mariadb-server"
}

// removeUUIDScript removes a MySQL server's auto.cnf so that it makes a new
// server_uuid at its next start. Argument: the datadir.
const removeUUIDScript = `rm -f -- "$1/auto.cnf"`

// hostFacts is what one round trip tells about a running server.
type hostFacts struct {
	Vars    map[string]string
	Replica *ReplicaStatus
	// NonEmpty are the user databases that hold tables.
	NonEmpty []string
}

func (f hostFacts) on(name string) bool {
	v := strings.ToUpper(f.Vars[name])
	return v == "ON" || v == "1"
}

// readOnly reports whether every read-only variable of the flavor is on
// (want true) or every one is off (want false).
func (f hostFacts) readOnlyIs(d Dialect, want bool) bool {
	for _, v := range d.ReadOnlyVars {
		if f.on(v) != want {
			return false
		}
	}
	return true
}

var factVars = []string{"server_id", "read_only", "super_read_only", "log_bin", "server_uuid", "datadir", "gtid_binlog_pos", "gtid_executed"}

// facts reads variables, replication status and the non-empty user
// databases in one round trip.
func (n Node) facts(ctx context.Context) (hostFacts, error) {
	stmts, err := factStmts(n.Dialect)
	if err != nil {
		return hostFacts{}, err
	}
	ts, err := n.QueryMulti(ctx, ScriptOptions{}, stmts...)
	if err != nil {
		return hostFacts{}, err
	}
	return parseFacts(n.Host, n.Dialect, ts)
}

// factStmts are the statements facts runs, in one QueryMulti.
func factStmts(d Dialect) ([]Stmt, error) {
	vars, err := d.ShowVariables(factVars...)
	if err != nil {
		return nil, err
	}
	return []Stmt{vars, d.ShowReplicaStatus(), d.NonEmptyDatabasesQuery()}, nil
}

// parseFacts reads the tables of factStmts.
func parseFacts(host string, d Dialect, ts []Table) (hostFacts, error) {
	var f hostFacts
	f.Vars = map[string]string{}
	if len(ts[0].Columns) > 0 {
		vi, vv := ts[0].Col("Variable_name"), ts[0].Col("Value")
		if vi < 0 || vv < 0 {
			return hostFacts{}, fmt.Errorf("%s: variables: unexpected columns %q", host, ts[0].Columns)
		}
		for _, r := range ts[0].Rows {
			f.Vars[strings.ToLower(r[vi])] = r[vv]
		}
	}
	if len(ts[1].Rows) > 0 {
		var err error
		if f.Replica, err = parseReplicaStatus(ts[1], d.Status); err != nil {
			return hostFacts{}, fmt.Errorf("%s: %w", host, err)
		}
	}
	for i := range ts[2].Rows {
		name, _ := ts[2].Get(i, "name")
		f.NonEmpty = append(f.NonEmpty, name)
	}
	return f, nil
}

// prepared is a member ready to be worked on: its server runs and answers.
type prepared struct {
	Node
	Server Server
	Init   apply.Init
	// Installed is true when this apply installed the server package.
	Installed bool
}

// errNotInstalled means the host has no server binary.
var errNotInstalled = errors.New("no MySQL or MariaDB server is installed")

// detectHost identifies a host's server. A server that does not answer is
// identified by its binary (errServerDown then carries the client's error);
// a host without one returns errNotInstalled.
func detectHost(ctx context.Context, host string, r Runner) (Server, error) {
	srv, err := DetectServer(ctx, r)
	if err == nil {
		return srv, nil
	}
	var ee *remote.ExitError
	if !errors.As(err, &ee) {
		return Server{}, fmt.Errorf("%s: %w", host, err) // transport: nothing known
	}
	res, verr := r.Run(ctx, remote.Cmd{Argv: DaemonVersionArgv()})
	if verr != nil {
		if errors.As(verr, &ee) {
			return Server{}, errNotInstalled
		}
		return Server{}, fmt.Errorf("%s: %w", host, verr)
	}
	f, ver, perr := ParseDaemonVersion(string(res.Stdout))
	if perr != nil {
		return Server{}, fmt.Errorf("%s: %w", host, perr)
	}
	s, perr := IdentifyServer(ver, f.String())
	if perr != nil {
		return Server{}, fmt.Errorf("%s: %w", host, perr)
	}
	return s, &serverDownError{host: host, err: err}
}

type serverDownError struct {
	host string
	err  error
}

func (e *serverDownError) Error() string {
	return fmt.Sprintf("the server on %s does not answer: %v", e.host, e.err)
}

func (e *serverDownError) Unwrap() error { return e.err }

// waitAnswering polls the server until it answers a query, at most timeout.
func waitAnswering(ctx context.Context, n Node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := n.Query(ctx, newStmt("SELECT 1 AS ok"))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server on %s does not answer %s after its start: %w", n.Host, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// serviceAction runs a service manager action on the member's server.
func (p *prepared) serviceAction(ctx context.Context, a apply.Action) error {
	_, err := p.Runner.Run(ctx, remote.Cmd{Argv: p.Init.Argv(a, p.Dialect.Service)})
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", p.Host, a, p.Dialect.Service, err)
	}
	return nil
}

// restart restarts the server and waits until it answers.
func (p *prepared) restart(ctx context.Context, timeout time.Duration) error {
	if err := p.serviceAction(ctx, apply.ActionRestart); err != nil {
		return err
	}
	return waitAnswering(ctx, p.Node, timeout)
}

// logFunc receives progress messages (never secrets).
type logFunc func(msg string, fields map[string]any)

// prepareHost makes sure a member runs a server: install the package when
// it is missing (install; flavor says which when the host has no trace of
// either), start the service when it is stopped, and identify what runs.
func prepareHost(ctx context.Context, host string, r Runner, install bool, flavor Flavor, timeout time.Duration, log logFunc) (*prepared, error) {
	// The service manager and the system, in one round trip: a host of a
	// family the provider does not support is refused before anything on
	// it changes.
	sys, err := apply.Probe(ctx, r, apply.ProbeRequest{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	if err := sys.SupportedSystem(); err != nil {
		return nil, fmt.Errorf("%s: %w. Nothing was changed", host, err)
	}
	initSys := sys.Init
	if initSys == "" {
		return nil, fmt.Errorf("%s: no supported service manager on the host (neither systemd nor service/init.d)", host)
	}
	p := &prepared{Init: initSys}
	srv, err := detectHost(ctx, host, r)
	var down *serverDownError
	if err == nil || errors.As(err, &down) {
		// A server binary without its service (the server package was
		// removed, its core left behind, perhaps a server still running)
		// is not installed either: it could not be restarted.
		d, derr := srv.Dialect()
		if derr != nil {
			return nil, fmt.Errorf("%s: %w", host, derr)
		}
		snap, perr := apply.Probe(ctx, r, apply.ProbeRequest{Services: []string{d.Service}, Init: initSys})
		if perr != nil {
			return nil, fmt.Errorf("%s: %w", host, perr)
		}
		if snap.Services[d.Service].LoadState != "loaded" {
			err, flavor = errNotInstalled, srv.Flavor
		}
	}
	if errors.Is(err, errNotInstalled) {
		pkg := ServerPackage(flavor)
		if !install {
			return nil, fmt.Errorf("%s: %w, and install is false: install %s (or set install = true)", host, errNotInstalled, pkg)
		}
		log("installing the server package", map[string]any{"host": host, "package": pkg})
		if ierr := apply.InstallPackages(ctx, r, []string{pkg}); ierr != nil {
			return nil, fmt.Errorf("%s: installing %s: %w", host, pkg, ierr)
		}
		p.Installed = true
		srv, err = detectHost(ctx, host, r)
		if errors.Is(err, errNotInstalled) {
			return nil, fmt.Errorf("%s: %s was installed but no server binary is found", host, pkg)
		}
	}
	if errors.As(err, &down) {
		d, derr := srv.Dialect()
		if derr != nil {
			return nil, fmt.Errorf("%s: %w", host, derr)
		}
		p.Node = Node{Host: host, Runner: r, Dialect: d}
		log("starting the server", map[string]any{"host": host, "service": d.Service})
		if serr := p.serviceAction(ctx, apply.ActionStart); serr != nil {
			return nil, fmt.Errorf("%w; starting it failed too: %w", err, serr)
		}
		if werr := waitAnswering(ctx, p.Node, timeout); werr != nil {
			return nil, werr
		}
		srv, err = detectHost(ctx, host, r)
	}
	if err != nil {
		return nil, err
	}
	d, err := srv.Dialect()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	p.Node = Node{Host: host, Runner: r, Dialect: d}
	p.Server = srv
	return p, nil
}

// settingsFiles are the managed files of a member: the fragment; on a
// replica with TLS, the CA bundle; with server TLS, the certificate and the
// key (readable by the server's group only).
func settingsFiles(d Dialect, s Settings, tls *SourceTLS, srv *ServerTLS) ([]apply.File, error) {
	content, err := d.RenderSettings(s)
	if err != nil {
		return nil, err
	}
	files := []apply.File{{Path: d.SettingsPath, Content: content, Mode: 0o644}}
	if s.Role == RoleReplica && tls != nil && tls.CAPEM != nil {
		files = append(files, apply.File{Path: tls.CAFile, Content: tls.CAPEM, Mode: 0o644})
	}
	if s.ServerTLS && srv != nil {
		files = append(files,
			apply.File{Path: ServerCertFile, Content: srv.CertPEM, Mode: 0o644},
			apply.File{Path: ServerKeyFile, Content: srv.KeyPEM, Group: serverGroup, Mode: 0o640})
	}
	return files, nil
}

// serverGroup is the group the server runs as on Debian (both flavors).
const serverGroup = "mysql"

// managedPaths are every path settingsFiles may write, for teardown.
func managedPaths(d Dialect) []string {
	return []string{d.SettingsPath, ReplicationCAFile, ServerCertFile, ServerKeyFile}
}

// settingsResult is what writing a member's settings did.
type settingsResult struct {
	Changed   bool
	Restarted bool
	// CAChanged is true when the CA bundle changed (the replication
	// connection must be restarted to read it).
	CAChanged bool
}

// applySettings writes a member's fragment (and CA bundle) through the
// apply engine: validated with the server's own check, atomically renamed,
// rolled back on failure. The server restarts only when a setting that
// cannot change at run time changed (or the fragment is new, or the server
// runs with another server_id or without binary log, a restart pending from
// earlier); otherwise changed dynamic settings are set with SET GLOBAL.
// noRestart writes the files and never restarts (a switchover's role
// change, which is dynamic).
func (p *prepared) applySettings(ctx context.Context, s Settings, tls *SourceTLS, srv *ServerTLS, noRestart bool, timeout time.Duration, log logFunc) (settingsResult, error) {
	var res settingsResult
	d := p.Dialect
	files, err := settingsFiles(d, s, tls, srv)
	if err != nil {
		return res, fmt.Errorf("%s: %w", p.Host, err)
	}
	snap, err := apply.Probe(ctx, p.Runner, apply.ProbeRequest{
		Content: []string{d.SettingsPath}, Paths: []string{ReplicationCAFile, ServerCertFile, ServerKeyFile}, Init: p.Init,
	})
	if err != nil {
		return res, fmt.Errorf("%s: reading the managed files: %w", p.Host, err)
	}
	old := snap.Files[d.SettingsPath]
	newSettings, err := d.ServerSettings(s)
	if err != nil {
		return res, fmt.Errorf("%s: %w", p.Host, err)
	}
	var restartFor []string
	var oldSettings []Setting
	switch {
	case !old.Exists:
		restartFor = []string{"(new fragment)"}
	case old.SHA256 != apply.Checksum(files[0].Content):
		var perr error
		if oldSettings, perr = ParseFragment(old.Content); perr != nil {
			restartFor = []string{"(unreadable fragment)"}
		} else {
			restartFor = d.RestartNeeded(oldSettings, newSettings)
		}
	}
	if !noRestart && len(restartFor) == 0 {
		// A restart an earlier apply did not finish.
		f, ferr := p.facts(ctx)
		if ferr != nil {
			return res, ferr
		}
		if f.Vars["server_id"] != fmt.Sprint(s.ServerID) || !f.on("log_bin") {
			restartFor = []string{"(server_id or log_bin differ from the fragment)"}
		}
	}
	certChanged := false
	var remove []string
	for _, f := range files[1:] {
		changed := snap.Files[f.Path].SHA256 != apply.Checksum(f.Content)
		switch f.Path {
		case ReplicationCAFile:
			res.CAChanged = changed
		default:
			certChanged = certChanged || changed
		}
	}
	for _, pth := range []string{ReplicationCAFile, ServerCertFile, ServerKeyFile} {
		if !slices.ContainsFunc(files, func(f apply.File) bool { return f.Path == pth }) {
			// No TLS, or not a replica (any more): not managed.
			remove = append(remove, pth)
		}
	}

	change := apply.Change{
		Files:        files,
		KeepOriginal: true,
		Lock:         applyLock,
		Host:         p.Host,
		Remove:       remove,
	}
	if change.Validate, err = d.ValidateConfigArgv(""); err != nil {
		return res, err
	}
	if certChanged && s.ServerTLS && len(restartFor) == 0 {
		// A new certificate or key at the same paths: restart rather than
		// reload (MySQL 9's ALTER INSTANCE RELOAD TLS refuses a certificate
		// that does not chain to its own ssl_ca, which only warns at start).
		restartFor = []string{"(server certificate or key)"}
	}
	restart := !noRestart && len(restartFor) > 0
	if restart {
		change.Reload = p.Init.Argv(apply.ActionRestart, d.Service)
		change.Verify = func(ctx context.Context, r remote.Runner) error {
			return waitAnswering(ctx, Node{Host: p.Host, Runner: r, Dialect: d}, timeout)
		}
		log("server settings need a restart", map[string]any{"host": p.Host, "settings": strings.Join(restartFor, ", ")})
	}
	out, err := apply.Apply(ctx, p.Runner, change)
	if err != nil {
		return res, fmt.Errorf("%s: %w", p.Host, err)
	}
	res.Changed = len(out.Changed) > 0
	if restart && !out.Reloaded {
		// The files were already in place (an earlier apply wrote them and
		// did not restart): restart now.
		if err := p.restart(ctx, timeout); err != nil {
			return res, err
		}
	}
	res.Restarted = restart
	if res.Changed && !restart && oldSettings != nil {
		if err := p.setDynamic(ctx, oldSettings, newSettings); err != nil {
			return res, err
		}
	}
	return res, nil
}

// setDynamic applies the changed dynamic extra settings with SET GLOBAL
// (role settings are the role's business: ensureRole).
func (p *prepared) setDynamic(ctx context.Context, old, cur []Setting) error {
	om := map[string]string{}
	for _, s := range old {
		om[s.Name] = s.Value
	}
	var stmts []Stmt
	for _, s := range cur {
		if v, ok := om[s.Name]; ok && v == s.Value {
			continue
		}
		if _, owned := ownedSettings[s.Name]; owned || !p.Dialect.IsDynamic(s.Name) {
			continue
		}
		st, err := p.Dialect.SetGlobal(s.Name, s.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Host, err)
		}
		stmts = append(stmts, st)
	}
	if len(stmts) == 0 {
		return nil
	}
	return p.Exec(ctx, ScriptOptions{}, stmts...)
}

// ensureRole makes the server's read-only variables match its role.
func (p *prepared) ensureRole(ctx context.Context, f hostFacts, role Role) error {
	want := role == RoleReplica
	if f.readOnlyIs(p.Dialect, want) {
		return nil
	}
	return p.Exec(ctx, ScriptOptions{LockWaitTimeout: 30 * time.Second}, p.Dialect.SetReadOnly(want)...)
}

// regenerateUUID gives a MySQL server a new server_uuid (a host cloned from
// another keeps the original's, and a replica with the source's UUID
// refuses to replicate). Only for a server that holds no user data.
func (p *prepared) regenerateUUID(ctx context.Context, datadir string, timeout time.Duration) error {
	if !path.IsAbs(datadir) || hasControl(datadir) || path.Clean(datadir) == "/" {
		return fmt.Errorf("%s: unexpected datadir %q", p.Host, datadir)
	}
	if _, err := p.Runner.Run(ctx, remote.Cmd{Argv: remote.Script(removeUUIDScript, path.Clean(datadir))}); err != nil {
		return fmt.Errorf("%s: removing auto.cnf: %w", p.Host, err)
	}
	return p.restart(ctx, timeout)
}
