// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Cluster is the service model of a foobar_mysql_cluster: what the provider
// layer converts the Terraform model into. Attribute paths in errors use the
// resource's attribute names (primary.ssh.host, replicas[1].server_id,
// users[0].privileges[2], settings["max_connections"]).
type Cluster struct {
	// Flavor is FlavorUnknown until the hosts have been asked; limits that
	// differ by flavor are then the strictest of both.
	Flavor   Flavor
	Primary  Member
	Replicas []Member

	ReplicationUser     string
	ReplicationHost     string // account host pattern; "" means "%"
	ReplicationPassword string
	// TLS, when set, makes replicas connect with TLS and verify the
	// primary's certificate chain (and its name when VerifyServerCert).
	TLS *SourceTLS
	// ServerTLS, when set, is the certificate and key every member serves
	// (ServerCertFile, ServerKeyFile; ssl_cert and ssl_key in the
	// fragment): replicas and clients verify it.
	ServerTLS *ServerTLS

	Databases []Database
	Users     []User
	// Settings are extra server settings for every member
	// (ValidateSetting).
	Settings map[string]string

	// MaxLagSeconds is how far behind a replica may be and still count as
	// healthy; 0 means not set.
	MaxLagSeconds int64

	// SemiSync, when set, turns on semi-synchronous replication.
	SemiSync *SemiSync
}

// Member is one server of the cluster.
type Member struct {
	// Host is the member's address: where the provider connects over SSH
	// and where replicas connect to it.
	Host string
	// Port is the MySQL port; 0 means 3306.
	Port int
	// ServerID, when 0, is derived from Host (DeriveServerID).
	ServerID int64
	// BindAddress is where the server listens; "" means 0.0.0.0.
	BindAddress string
}

// User is an application account with privileges on one database.
type User struct {
	Name       string
	Host       string // "" means "%"
	Password   string
	RequireSSL bool
	Database   string
	Privileges []string
}

// Account is the user's 'name'@'host' account.
func (u User) Account() Account {
	h := u.Host
	if h == "" {
		h = "%"
	}
	return Account{User: u.Name, Host: h}
}

// EffectiveServerID is the member's server_id: given, or derived.
func (m Member) EffectiveServerID() uint32 {
	if m.ServerID != 0 {
		return uint32(m.ServerID)
	}
	return DeriveServerID(m.Host)
}

// EffectivePort is the member's port, 3306 when not set.
func (m Member) EffectivePort() int {
	if m.Port == 0 {
		return 3306
	}
	return m.Port
}

// ReplicationAccount is the account replicas connect as.
func (c Cluster) ReplicationAccount() Account {
	h := c.ReplicationHost
	if h == "" {
		h = "%"
	}
	return Account{User: c.ReplicationUser, Host: h}
}

// SourceFor is how any member replicates from source.
func (c Cluster) SourceFor(source Member) SourceConfig {
	return SourceConfig{
		Host:     source.Host,
		Port:     source.EffectivePort(),
		User:     c.ReplicationUser,
		Password: c.ReplicationPassword,
		TLS:      c.TLS,
	}
}

// SettingsFor is the fragment model of a member in a role.
func (c Cluster) SettingsFor(m Member, role Role) Settings {
	return Settings{
		Role:        role,
		ServerID:    m.EffectiveServerID(),
		Port:        m.Port,
		BindAddress: m.BindAddress,
		ReportHost:  m.Host,
		ServerTLS:   c.ServerTLS != nil,
		Extra:       c.Settings,
		SemiSync:    c.SemiSync,
	}
}

func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// Validate checks the whole cluster at plan time and returns every problem
// found (errors.Join of *fault.FieldError), in a stable order. Passwords are not
// checked here: the provider knows which attribute (sensitive or
// write-only) holds each, and checks them with ValidateSourcePassword and
// ValidatePassword. Empty member hosts are skipped (not known yet at plan
// time); the provider's schema requires them.
func (c Cluster) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	type seenMember struct {
		path    string
		derived bool
	}
	hosts := map[string]string{}
	ids := map[uint32]seenMember{}
	checkMember := func(p string, m Member) {
		if m.Host != "" {
			add(ValidateHostAddress(p+".ssh.host", m.Host))
		}
		if m.Port != 0 {
			add(ValidatePort(p+".port", m.Port))
		}
		if m.ServerID != 0 {
			add(ValidateServerID(p+".server_id", m.ServerID))
		}
		if m.BindAddress != "" {
			add(validateBindAny(p+".bind_address", m.BindAddress))
		}
		if m.Host == "" {
			return
		}
		h := normHost(m.Host)
		if prev, dup := hosts[h]; dup {
			if prev == "primary" {
				add(fieldErr(p+".ssh.host", m.Host, "is the primary (primary.ssh.host): a member is either the primary or a replica"))
			} else {
				add(fieldErr(p+".ssh.host", m.Host, "is listed twice (also %s.ssh.host)", prev))
			}
		} else {
			hosts[h] = p
		}
		if m.ServerID < 0 || m.ServerID > 4294967295 {
			return
		}
		id := m.EffectiveServerID()
		if prev, dup := ids[id]; dup {
			if m.ServerID == 0 && prev.derived {
				add(fieldErr(p+".server_id", "", "the server_id derived from the host (%d) collides with %s's: set server_id explicitly on one of them", id, prev.path))
			} else {
				add(fieldErr(p+".server_id", fmt.Sprint(id), "is also the server_id of %s: server_ids must be unique in a cluster", prev.path))
			}
		} else {
			ids[id] = seenMember{path: p, derived: m.ServerID == 0}
		}
	}
	checkMember("primary", c.Primary)
	for i, r := range c.Replicas {
		checkMember(fmt.Sprintf("replicas[%d]", i), r)
	}

	keys := make([]string, 0, len(c.Settings))
	for k := range c.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	canon := map[string]string{}
	for _, k := range keys {
		n, err := ValidateSetting("settings", k, c.Settings[k])
		add(err)
		if err == nil {
			if prev, dup := canon[n]; dup {
				add(fieldErr(fmt.Sprintf("settings[%q]", k), k, "is the same setting as %q", prev))
			}
			canon[n] = k
			if c.ServerTLS != nil && (n == "ssl_cert" || n == "ssl_key") {
				add(fieldErr(fmt.Sprintf("settings[%q]", k), k, "is managed by server_tls while server_tls is set"))
			}
		}
	}

	if c.ReplicationUser != "" {
		add(ValidateUserName("replication_user", c.ReplicationUser, c.Flavor))
	}
	if c.ReplicationHost != "" {
		add(ValidateHostPattern("replication_host", c.ReplicationHost))
	}
	if c.MaxLagSeconds != 0 {
		add(ValidateLagThreshold("lag_threshold_seconds", c.MaxLagSeconds))
	}
	if c.SemiSync != nil {
		add(ValidateSemiSync("semi_sync.timeout", *c.SemiSync))
	}

	dbs := map[string]int{}
	for i, db := range c.Databases {
		p := fmt.Sprintf("databases[%d]", i)
		if db.Name == "" {
			continue // unknown at plan time
		}
		add(ValidateDatabaseName(p+".name", db.Name))
		cs := db.Charset
		if cs == "" {
			cs = "utf8mb4"
		}
		add(ValidateCharset(p+".charset", p+".collation", cs, db.Collation))
		if prev, dup := dbs[db.Name]; dup {
			add(fieldErr(p+".name", db.Name, "is also databases[%d].name", prev))
		} else {
			dbs[db.Name] = i
		}
	}

	accounts := map[Account]string{}
	if c.ReplicationUser != "" {
		accounts[c.ReplicationAccount()] = "replication_user"
	}
	for i, u := range c.Users {
		p := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			continue // unknown at plan time
		}
		add(ValidateUserName(p+".name", u.Name, c.Flavor))
		if u.Host != "" {
			add(ValidateHostPattern(p+".host", u.Host))
		}
		a := u.Account()
		if prev, dup := accounts[a]; dup {
			add(fieldErr(p+".name", a.String(), "is the same account as %s", prev))
		} else {
			accounts[a] = p
		}
		if u.Database != "" {
			add(ValidateDatabaseName(p+".database", u.Database))
		}
		if u.Privileges != nil {
			_, err := NormalizePrivileges(p+".privileges", u.Privileges, c.Flavor)
			add(err)
		}
	}
	return errors.Join(errs...)
}

// validateBindAny checks a bind address before the flavor is known: the
// comma-separated form is re-checked against the server's version at apply
// time (Dialect.ValidateBindAddress).
func validateBindAny(path, addr string) error {
	d, err := NewDialect(MySQL, V(8, 0, 13))
	if err != nil {
		return err
	}
	return d.ValidateBindAddress(path, addr)
}

// ServerCertFile and ServerKeyFile are where the provider writes the
// members' certificate (0644) and private key (0640, group mysql).
const (
	ServerCertFile = "/etc/mysql/foobar-server-cert.pem"
	ServerKeyFile  = "/etc/mysql/foobar-server-key.pem"
)

// ServerTLS is the certificate every member serves to replicas and clients.
type ServerTLS struct {
	// CertPEM is the server certificate, optionally followed by the
	// intermediates; its subject alternative names must name every member
	// as replicas and clients reach it.
	CertPEM []byte
	// KeyPEM is the certificate's private key (secret: it reaches the host
	// on the transfer's standard input, never a command line or a log).
	KeyPEM []byte
}
