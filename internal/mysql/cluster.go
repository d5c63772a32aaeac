// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package mysql

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Cluster is the service model of a foobar_mysql_cluster: what the provider
// layer converts the Terraform model into. Attribute paths in errors use the
// resource's attribute names.
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
	// primary's certificate.
	TLS *SourceTLS

	Databases []Database
	// Users are keyed by the Terraform map key.
	Users map[string]User

	// MaxLagSeconds is how far behind a replica may be and still count as
	// healthy; 0 means not set.
	MaxLagSeconds int64
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
	// Settings are extra server settings (ValidateSetting).
	Settings map[string]string
}

// User is an application account.
type User struct {
	Name       string
	Host       string // "" means "%"
	Password   string
	RequireSSL bool
	Grants     []Grant
}

// Grant is privileges on all objects of one database.
type Grant struct {
	Database   string
	Privileges []string
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
		Extra:       m.Settings,
	}
}

func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// Validate checks the whole cluster at plan time and returns every problem
// found (errors.Join of *FieldError), in a stable order.
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
		add(ValidateHostAddress(p+".host", m.Host))
		if m.Port != 0 {
			add(ValidatePort(p+".port", m.Port))
		}
		if m.ServerID != 0 {
			add(ValidateServerID(p+".server_id", m.ServerID))
		}
		if m.BindAddress != "" {
			add(validateBindAny(p+".bind_address", m.BindAddress))
		}
		keys := make([]string, 0, len(m.Settings))
		for k := range m.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		canon := map[string]string{}
		for _, k := range keys {
			n, err := ValidateSetting(p+".settings", k, m.Settings[k])
			add(err)
			if err == nil {
				if prev, dup := canon[n]; dup {
					add(fieldErr(fmt.Sprintf("%s.settings[%q]", p, k), k, "is the same setting as %q", prev))
				}
				canon[n] = k
			}
		}

		if m.Host != "" {
			h := normHost(m.Host)
			if prev, dup := hosts[h]; dup {
				if prev == "primary" {
					add(fieldErr(p+".host", m.Host, "is the primary (primary.host): a member is either the primary or a replica"))
				} else {
					add(fieldErr(p+".host", m.Host, "is listed twice (also %s.host)", prev))
				}
			} else {
				hosts[h] = p
			}
		}
		if m.ServerID < 0 || m.ServerID > 4294967295 || m.Host == "" {
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

	add(ValidateUserName("replication_user", c.ReplicationUser, c.Flavor))
	if c.ReplicationHost != "" {
		add(ValidateHostPattern("replication_host", c.ReplicationHost))
	}
	add(ValidateSourcePassword("replication_password", c.ReplicationPassword, c.Flavor))
	if c.TLS != nil && (!path.IsAbs(c.TLS.CAFile) || path.Clean(c.TLS.CAFile) != c.TLS.CAFile || hasControl(c.TLS.CAFile)) {
		add(fieldErr("tls.ca_file", c.TLS.CAFile, "must be a clean absolute path on the replica hosts"))
	}
	if c.MaxLagSeconds != 0 {
		add(ValidateLagThreshold("max_lag_seconds", c.MaxLagSeconds))
	}

	dbs := map[string]int{}
	for i, db := range c.Databases {
		p := fmt.Sprintf("databases[%d]", i)
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

	keys := make([]string, 0, len(c.Users))
	for k := range c.Users {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	accounts := map[Account]string{c.ReplicationAccount(): "replication_user"}
	for _, k := range keys {
		u := c.Users[k]
		p := fmt.Sprintf("users[%q]", k)
		add(ValidateUserName(p+".name", u.Name, c.Flavor))
		host := u.Host
		if host == "" {
			host = "%"
		} else {
			add(ValidateHostPattern(p+".host", u.Host))
		}
		add(ValidatePassword(p+".password", u.Password))
		a := Account{User: u.Name, Host: host}
		if prev, dup := accounts[a]; dup {
			add(fieldErr(p+".name", a.String(), "is the same account as %s", prev))
		} else {
			accounts[a] = p
		}
		for j, g := range u.Grants {
			gp := fmt.Sprintf("%s.grants[%d]", p, j)
			add(ValidateDatabaseName(gp+".database", g.Database))
			_, err := NormalizePrivileges(gp+".privileges", g.Privileges, c.Flavor)
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
