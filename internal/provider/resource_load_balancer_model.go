// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
)

// lbModel is the resource. Nested attributes are pointers (single) and
// slices (lists); the plan and state they are read from are always fully
// known (ModifyPlan reads only fully known configurations into them).
type lbModel struct {
	SSH            connectionModel   `tfsdk:"ssh"`
	ID             types.String      `tfsdk:"id"`
	Install        types.Bool        `tfsdk:"install"`
	MaxConn        types.Int64       `tfsdk:"maxconn"`
	NbThread       types.Int64       `tfsdk:"nbthread"`
	HardStopAfter  types.String      `tfsdk:"hard_stop_after"`
	Timeouts       *lbTimeoutsModel  `tfsdk:"timeouts"`
	Frontends      []lbFrontendModel `tfsdk:"frontends"`
	Backends       []lbBackendModel  `tfsdk:"backends"`
	Stats          *lbStatsModel     `tfsdk:"stats"`
	RenderedConfig types.String      `tfsdk:"rendered_config"`
	ConfigSHA256   types.String      `tfsdk:"config_sha256"`
	HAProxyVersion types.String      `tfsdk:"haproxy_version"`
	// HAProxyPackageVersion is haproxy -v's version, HAProxyVersion its
	// upstream part (setVersion sets both).
	HAProxyPackageVersion types.String `tfsdk:"haproxy_package_version"`

	// The high_availability block and its computed attributes
	// (resource_load_balancer_ha.go).
	HighAvailability *lbHAModel   `tfsdk:"high_availability"`
	KeepalivedSHA256 types.String `tfsdk:"keepalived_config_sha256"`
	VRRPState        types.String `tfsdk:"vrrp_state"`
	HoldsVirtualIP   types.Bool   `tfsdk:"holds_virtual_ip"`
}

// setVersion sets haproxy_version to the upstream part of what haproxy -v
// reported and haproxy_package_version to all of it.
func (m *lbModel) setVersion(reported string) {
	m.HAProxyVersion = types.StringValue(haproxy.UpstreamVersion(reported))
	m.HAProxyPackageVersion = types.StringValue(reported)
}

type lbTimeoutsModel struct {
	Connect       types.String `tfsdk:"connect"`
	Client        types.String `tfsdk:"client"`
	Server        types.String `tfsdk:"server"`
	HTTPRequest   types.String `tfsdk:"http_request"`
	HTTPKeepAlive types.String `tfsdk:"http_keep_alive"`
	Queue         types.String `tfsdk:"queue"`
}

type lbFrontendModel struct {
	Name            types.String             `tfsdk:"name"`
	BindAddress     types.String             `tfsdk:"bind_address"`
	Port            types.Int64              `tfsdk:"port"`
	MaxConn         types.Int64              `tfsdk:"maxconn"`
	TLS             *lbTLSModel              `tfsdk:"tls"`
	RedirectToHTTPS types.Bool               `tfsdk:"redirect_to_https"`
	HSTSMaxAge      types.Int64              `tfsdk:"hsts_max_age"`
	ForwardFor      types.Bool               `tfsdk:"forward_for"`
	ForwardedProto  types.Bool               `tfsdk:"forwarded_proto"`
	Timeouts        *lbFrontendTimeoutsModel `tfsdk:"timeouts"`
	Rules           []lbRuleModel            `tfsdk:"rules"`
	DefaultBackend  types.String             `tfsdk:"default_backend"`
}

type lbTLSModel struct {
	Port                   types.Int64  `tfsdk:"port"`
	CertificatePEM         types.String `tfsdk:"certificate_pem"`
	PrivateKeyPEM          types.String `tfsdk:"private_key_pem"`
	PrivateKeyPEMWO        types.String `tfsdk:"private_key_pem_wo"`
	PrivateKeyPEMWOVersion types.Int64  `tfsdk:"private_key_pem_wo_version"`
}

type lbFrontendTimeoutsModel struct {
	Client        types.String `tfsdk:"client"`
	HTTPRequest   types.String `tfsdk:"http_request"`
	HTTPKeepAlive types.String `tfsdk:"http_keep_alive"`
}

type lbRuleModel struct {
	Host       types.String `tfsdk:"host"`
	PathPrefix types.String `tfsdk:"path_prefix"`
	Backend    types.String `tfsdk:"backend"`
}

type lbBackendModel struct {
	Name         types.String            `tfsdk:"name"`
	Balance      types.String            `tfsdk:"balance"`
	Servers      []lbServerModel         `tfsdk:"servers"`
	HealthCheck  *lbHealthCheckModel     `tfsdk:"health_check"`
	StickyCookie types.String            `tfsdk:"sticky_cookie"`
	TLS          *lbBackendTLSModel      `tfsdk:"tls"`
	Timeouts     *lbBackendTimeoutsModel `tfsdk:"timeouts"`
}

type lbBackendTLSModel struct {
	CAPEM      types.String `tfsdk:"ca_pem"`
	ServerName types.String `tfsdk:"server_name"`
}

type lbServerModel struct {
	Name     types.String `tfsdk:"name"`
	Address  types.String `tfsdk:"address"`
	Port     types.Int64  `tfsdk:"port"`
	Weight   types.Int64  `tfsdk:"weight"`
	Backup   types.Bool   `tfsdk:"backup"`
	MaxConn  types.Int64  `tfsdk:"maxconn"`
	Disabled types.Bool   `tfsdk:"disabled"`
}

type lbHealthCheckModel struct {
	Path         types.String `tfsdk:"path"`
	Host         types.String `tfsdk:"host"`
	ExpectStatus types.Int64  `tfsdk:"expect_status"`
	Interval     types.String `tfsdk:"interval"`
	Rise         types.Int64  `tfsdk:"rise"`
	Fall         types.Int64  `tfsdk:"fall"`
	ErrorLimit   types.Int64  `tfsdk:"error_limit"`
}

type lbBackendTimeoutsModel struct {
	Connect types.String `tfsdk:"connect"`
	Server  types.String `tfsdk:"server"`
	Queue   types.String `tfsdk:"queue"`
}

type lbStatsModel struct {
	BindAddress       types.String `tfsdk:"bind_address"`
	Port              types.Int64  `tfsdk:"port"`
	URI               types.String `tfsdk:"uri"`
	User              types.String `tfsdk:"user"`
	Password          types.String `tfsdk:"password"`
	PasswordWO        types.String `tfsdk:"password_wo"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
	Refresh           types.String `tfsdk:"refresh"`
	Prometheus        types.Bool   `tfsdk:"prometheus"`
}

// errorContext is how the load balancer shows service errors: values from
// the configuration (the haproxy package's errors carry none), secrets
// never shown, paths renamed to the attribute that holds the value. With
// skipCovered, an error at an attribute whose own validator fails is left
// out (the validator reported it). cv may be nil (no configuration at hand).
func (cv *lbConverter) errorContext(skipCovered bool) errorContext {
	if cv == nil {
		return errorContext{}
	}
	return errorContext{
		secrets: cv.secrets,
		rename:  cv.rename,
		value: func(p string) (any, bool, bool) {
			v, known := cv.values[p]
			c, hasCheck := lbChecks[lbPattern(p)]
			if hasCheck && c.bulky {
				return nil, false, false
			}
			return v, hasCheck && c.secret || cv.secret[p], known
		},
		skip: func(fe *fault.FieldError) bool {
			if !skipCovered {
				return false
			}
			p := cv.rename(fe.Path)
			pat := lbPattern(p)
			v, known := cv.values[p]
			c, hasCheck := lbChecks[pat]
			return hasCheck && known && lbLeafFails(c, v) || lbCoveredBySchema(pat, p, cv)
		},
	}
}

// lbCoveredBySchema reports whether a problem at p is one the schema's own
// validators already report: an empty frontends or servers list
// (listvalidator.SizeAtLeast), a TLS block without a key
// (stringvalidator.ExactlyOneOf).
func lbCoveredBySchema(pat, p string, cv *lbConverter) bool {
	switch pat {
	case "frontends", "backends.servers":
		return true
	case "frontends.tls.private_key_pem":
		_, hasKey := cv.values[p]
		return !hasKey
	}
	return false
}

func lbLeafFails(c lbLeafCheck, v any) bool {
	switch x := v.(type) {
	case string:
		return c.str != nil && c.str(x) != nil
	case int64:
		return c.num != nil && c.num(x) != nil
	}
	return false
}

// lbConverter builds a haproxy.Config from the model and remembers every
// value it read by attribute path, for error messages.
type lbConverter struct {
	values map[string]any
	secret map[string]bool
	// renames maps a haproxy error path to the attribute that holds the
	// value (stats.password -> stats.password_wo for the write-only form).
	renames map[string]string
	// secrets are the secret values, for log masking.
	secrets []string
	// inexact are the attributes whose value the Config does not hold
	// as given (unknown, or a number clamped to int32).
	inexact []string
}

func (cv *lbConverter) rename(p string) string {
	if n, ok := cv.renames[p]; ok {
		return n
	}
	return p
}

func (cv *lbConverter) str(p string, v types.String) string {
	if v.IsUnknown() {
		cv.inexact = append(cv.inexact, p)
	}
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	cv.values[p] = v.ValueString()
	return v.ValueString()
}

func (cv *lbConverter) num(p string, v types.Int64) int {
	if v.IsUnknown() {
		cv.inexact = append(cv.inexact, p)
	}
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	cv.values[p] = v.ValueInt64()
	n := v.ValueInt64()
	// Out-of-range values were refused by the attribute validators; clamp
	// so that a conversion never wraps into a valid-looking number.
	if n > 1<<31-1 {
		n = 1<<31 - 1
		cv.inexact = append(cv.inexact, p)
	} else if n < -1<<31 {
		n = -1 << 31
		cv.inexact = append(cv.inexact, p)
	}
	return int(n)
}

// toConfig converts the plan (or state) model m into a haproxy.Config;
// write-only values come from cfgModel, the configuration (the plan never
// holds them).
func (m lbModel) toConfig(cfgModel lbModel) (haproxy.Config, *lbConverter) {
	cv := &lbConverter{values: map[string]any{}, secret: map[string]bool{}, renames: map[string]string{}}
	c := haproxy.Config{
		MaxConn:       cv.num("maxconn", m.MaxConn),
		NbThread:      cv.num("nbthread", m.NbThread),
		HardStopAfter: cv.str("hard_stop_after", m.HardStopAfter),
	}
	if t := m.Timeouts; t != nil {
		c.Timeouts = haproxy.Timeouts{
			Connect:       cv.str("timeouts.connect", t.Connect),
			Client:        cv.str("timeouts.client", t.Client),
			Server:        cv.str("timeouts.server", t.Server),
			HTTPRequest:   cv.str("timeouts.http_request", t.HTTPRequest),
			HTTPKeepAlive: cv.str("timeouts.http_keep_alive", t.HTTPKeepAlive),
			Queue:         cv.str("timeouts.queue", t.Queue),
		}
	}
	for i, f := range m.Frontends {
		p := fmt.Sprintf("frontends[%d]", i)
		fe := haproxy.Frontend{
			Name:            cv.str(p+".name", f.Name),
			BindAddress:     cv.str(p+".bind_address", f.BindAddress),
			Port:            cv.num(p+".port", f.Port),
			MaxConn:         cv.num(p+".maxconn", f.MaxConn),
			RedirectToHTTPS: boolOr(f.RedirectToHTTPS, false),
			HSTSMaxAge:      cv.num(p+".hsts_max_age", f.HSTSMaxAge),
			ForwardFor:      boolOr(f.ForwardFor, true),
			ForwardedProto:  boolOr(f.ForwardedProto, true),
			DefaultBackend:  cv.str(p+".default_backend", f.DefaultBackend),
		}
		if t := f.TLS; t != nil {
			tp := p + ".tls"
			key := t.PrivateKeyPEM.ValueString()
			cv.secret[tp+".private_key_pem"] = true
			if t.PrivateKeyPEM.IsNull() && i < len(cfgModel.Frontends) && cfgModel.Frontends[i].TLS != nil {
				key = cfgModel.Frontends[i].TLS.PrivateKeyPEMWO.ValueString()
			}
			if key != "" {
				cv.secrets = append(cv.secrets, key)
				cv.values[tp+".private_key_pem"] = key
			}
			fe.TLS = &haproxy.TLS{
				Port:           cv.num(tp+".port", t.Port),
				CertificatePEM: t.CertificatePEM.ValueString(),
				PrivateKeyPEM:  key,
			}
		}
		if t := f.Timeouts; t != nil {
			fe.Timeouts = haproxy.FrontendTimeouts{
				Client:        cv.str(p+".timeouts.client", t.Client),
				HTTPRequest:   cv.str(p+".timeouts.http_request", t.HTTPRequest),
				HTTPKeepAlive: cv.str(p+".timeouts.http_keep_alive", t.HTTPKeepAlive),
			}
		}
		for j, rl := range f.Rules {
			rp := fmt.Sprintf("%s.rules[%d]", p, j)
			fe.Rules = append(fe.Rules, haproxy.Rule{
				Host:       cv.str(rp+".host", rl.Host),
				PathPrefix: cv.str(rp+".path_prefix", rl.PathPrefix),
				Backend:    cv.str(rp+".backend", rl.Backend),
			})
		}
		c.Frontends = append(c.Frontends, fe)
	}
	for i, b := range m.Backends {
		p := fmt.Sprintf("backends[%d]", i)
		be := haproxy.Backend{
			Name:         cv.str(p+".name", b.Name),
			Balance:      cv.str(p+".balance", b.Balance),
			StickyCookie: cv.str(p+".sticky_cookie", b.StickyCookie),
		}
		for j, s := range b.Servers {
			sp := fmt.Sprintf("%s.servers[%d]", p, j)
			srv := haproxy.Server{
				Name:     cv.str(sp+".name", s.Name),
				Address:  cv.str(sp+".address", s.Address),
				Port:     cv.num(sp+".port", s.Port),
				Backup:   boolOr(s.Backup, false),
				MaxConn:  cv.num(sp+".maxconn", s.MaxConn),
				Disabled: boolOr(s.Disabled, false),
			}
			if !s.Weight.IsNull() && !s.Weight.IsUnknown() {
				w := cv.num(sp+".weight", s.Weight)
				srv.Weight = &w
			}
			be.Servers = append(be.Servers, srv)
		}
		if hc := b.HealthCheck; hc != nil {
			hp := p + ".health_check"
			be.HealthCheck = &haproxy.HealthCheck{
				Path:         cv.str(hp+".path", hc.Path),
				Host:         cv.str(hp+".host", hc.Host),
				ExpectStatus: cv.num(hp+".expect_status", hc.ExpectStatus),
				Interval:     cv.str(hp+".interval", hc.Interval),
				Rise:         cv.num(hp+".rise", hc.Rise),
				Fall:         cv.num(hp+".fall", hc.Fall),
				ErrorLimit:   cv.num(hp+".error_limit", hc.ErrorLimit),
			}
		}
		if t := b.TLS; t != nil {
			be.TLS = &haproxy.BackendTLS{
				CAPEM:      cv.str(p+".tls.ca_pem", t.CAPEM),
				ServerName: cv.str(p+".tls.server_name", t.ServerName),
			}
		}
		if t := b.Timeouts; t != nil {
			be.Timeouts = haproxy.BackendTimeouts{
				Connect: cv.str(p+".timeouts.connect", t.Connect),
				Server:  cv.str(p+".timeouts.server", t.Server),
				Queue:   cv.str(p+".timeouts.queue", t.Queue),
			}
		}
		c.Backends = append(c.Backends, be)
	}
	if s := m.Stats; s != nil {
		st := &haproxy.Stats{
			BindAddress: cv.str("stats.bind_address", s.BindAddress),
			Port:        cv.num("stats.port", s.Port),
			URI:         cv.str("stats.uri", s.URI),
			User:        cv.str("stats.user", s.User),
			Refresh:     cv.str("stats.refresh", s.Refresh),
			Prometheus:  boolOr(s.Prometheus, false),
		}
		cv.secret["stats.password"], cv.secret["stats.password_wo"] = true, true
		if !s.Password.IsNull() {
			st.Password = cv.str("stats.password", s.Password)
		} else if cfgModel.Stats != nil && !cfgModel.Stats.PasswordWO.IsNull() {
			st.Password = cv.str("stats.password_wo", cfgModel.Stats.PasswordWO)
			cv.renames["stats.password"] = "stats.password_wo"
		}
		if st.Password != "" {
			cv.secrets = append(cv.secrets, st.Password)
		}
		c.Stats = st
	}
	return c, cv
}

// toDeployment is what haproxy.Deploy applies for the plan (or state) model
// m; write-only values come from cfgModel, the configuration.
func (m lbModel) toDeployment(cfgModel lbModel) (haproxy.Deployment, *lbConverter) {
	c, cv := m.toConfig(cfgModel)
	d := haproxy.Deployment{Config: c, Install: boolOr(m.Install, true)}
	if s := m.Stats; s != nil && s.Password.IsNull() && c.Stats.Password != "" {
		d.WriteOnly.StatsPassword = &haproxy.SecretVersion{Version: int64Ptr(s.PasswordWOVersion)}
	}
	for _, f := range m.Frontends {
		if f.TLS != nil && f.TLS.PrivateKeyPEM.IsNull() {
			if d.WriteOnly.TLSKeys == nil {
				d.WriteOnly.TLSKeys = map[string]haproxy.SecretVersion{}
			}
			d.WriteOnly.TLSKeys[f.Name.ValueString()] = haproxy.SecretVersion{Version: int64Ptr(f.TLS.PrivateKeyPEMWOVersion)}
		}
	}
	return d, cv
}

// fromRecord is the inverse of toDeployment: m with every attribute
// but the connection and the computed ones taken from the record on the
// host (an import, or a change applied from another state). Zero values
// become null; write-only values stay null, their versions are restored.
func (m lbModel) fromRecord(rec *haproxy.Record) lbModel {
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	num := func(n int) types.Int64 {
		if n == 0 {
			return types.Int64Null()
		}
		return types.Int64Value(int64(n))
	}
	ver := func(v *int64) types.Int64 {
		if v == nil {
			return types.Int64Null()
		}
		return types.Int64Value(*v)
	}
	c, wo := rec.Config, rec.WriteOnly
	m.Install = types.BoolValue(rec.Install)
	m.MaxConn, m.NbThread, m.HardStopAfter = num(c.MaxConn), num(c.NbThread), str(c.HardStopAfter)
	m.Timeouts = nil
	if t := c.Timeouts; t != (haproxy.Timeouts{}) {
		m.Timeouts = &lbTimeoutsModel{Connect: str(t.Connect), Client: str(t.Client), Server: str(t.Server),
			HTTPRequest: str(t.HTTPRequest), HTTPKeepAlive: str(t.HTTPKeepAlive), Queue: str(t.Queue)}
	}
	m.Frontends = nil
	for _, f := range c.Frontends {
		fm := lbFrontendModel{
			Name: str(f.Name), BindAddress: str(f.BindAddress), Port: num(f.Port), MaxConn: num(f.MaxConn),
			RedirectToHTTPS: types.BoolValue(f.RedirectToHTTPS), HSTSMaxAge: num(f.HSTSMaxAge),
			ForwardFor: types.BoolValue(f.ForwardFor), ForwardedProto: types.BoolValue(f.ForwardedProto),
			DefaultBackend: str(f.DefaultBackend),
		}
		if t := f.TLS; t != nil {
			fm.TLS = &lbTLSModel{Port: num(t.Port), CertificatePEM: types.StringValue(t.CertificatePEM), PrivateKeyPEM: str(t.PrivateKeyPEM),
				PrivateKeyPEMWO: types.StringNull(), PrivateKeyPEMWOVersion: types.Int64Null()}
			if v, ok := wo.TLSKeys[f.Name]; ok {
				fm.TLS.PrivateKeyPEM, fm.TLS.PrivateKeyPEMWOVersion = types.StringNull(), ver(v.Version)
			}
		}
		if t := f.Timeouts; t != (haproxy.FrontendTimeouts{}) {
			fm.Timeouts = &lbFrontendTimeoutsModel{Client: str(t.Client), HTTPRequest: str(t.HTTPRequest), HTTPKeepAlive: str(t.HTTPKeepAlive)}
		}
		for _, rl := range f.Rules {
			fm.Rules = append(fm.Rules, lbRuleModel{Host: str(rl.Host), PathPrefix: str(rl.PathPrefix), Backend: str(rl.Backend)})
		}
		m.Frontends = append(m.Frontends, fm)
	}
	m.Backends = nil
	for _, b := range c.Backends {
		bm := lbBackendModel{Name: str(b.Name), Balance: str(b.Balance), StickyCookie: str(b.StickyCookie)}
		for _, s := range b.Servers {
			sm := lbServerModel{Name: str(s.Name), Address: str(s.Address), Port: num(s.Port), Weight: types.Int64Null(),
				Backup: types.BoolValue(s.Backup), MaxConn: num(s.MaxConn), Disabled: types.BoolValue(s.Disabled)}
			if s.Weight != nil {
				sm.Weight = types.Int64Value(int64(*s.Weight))
			}
			bm.Servers = append(bm.Servers, sm)
		}
		if hc := b.HealthCheck; hc != nil {
			bm.HealthCheck = &lbHealthCheckModel{Path: str(hc.Path), Host: str(hc.Host), ExpectStatus: num(hc.ExpectStatus),
				Interval: str(hc.Interval), Rise: num(hc.Rise), Fall: num(hc.Fall), ErrorLimit: num(hc.ErrorLimit)}
		}
		if t := b.TLS; t != nil {
			bm.TLS = &lbBackendTLSModel{CAPEM: str(t.CAPEM), ServerName: str(t.ServerName)}
		}
		if t := b.Timeouts; t != (haproxy.BackendTimeouts{}) {
			bm.Timeouts = &lbBackendTimeoutsModel{Connect: str(t.Connect), Server: str(t.Server), Queue: str(t.Queue)}
		}
		m.Backends = append(m.Backends, bm)
	}
	m.Stats = nil
	if s := c.Stats; s != nil {
		m.Stats = &lbStatsModel{BindAddress: str(s.BindAddress), Port: num(s.Port), URI: str(s.URI), User: str(s.User),
			Password: str(s.Password), PasswordWO: types.StringNull(), PasswordWOVersion: types.Int64Null(),
			Refresh: str(s.Refresh), Prometheus: types.BoolValue(s.Prometheus)}
		if v := wo.StatsPassword; v != nil {
			m.Stats.Password, m.Stats.PasswordWOVersion = types.StringNull(), ver(v.Version)
		}
	}
	return m
}

// sameAs reports whether two models as the state holds them (no
// write-only values) describe the same deployment: the same haproxy.Config,
// install setting and write-only versions. Read keeps the state's model
// when the host's record says the same thing in other words (a null where
// the configuration has an explicit zero, an empty block). A model that
// does not convert exactly (an unknown value, a number out of range) is
// the same as nothing: two such models could build equal Configs while
// saying different things, and Read then takes the host's record.
func (a lbModel) sameAs(b lbModel) bool {
	ca, cva := a.toConfig(a)
	cb, cvb := b.toConfig(b)
	if len(cva.inexact) > 0 || len(cvb.inexact) > 0 {
		return false
	}
	return reflect.DeepEqual(ca, cb) && a.Install.Equal(b.Install) && slices.Equal(a.versions(), b.versions())
}

func (m lbModel) versions() []string {
	var vs []string
	if m.Stats != nil {
		vs = append(vs, m.Stats.PasswordWOVersion.String())
	}
	for _, f := range m.Frontends {
		if f.TLS != nil {
			vs = append(vs, f.Name.ValueString()+"="+f.TLS.PrivateKeyPEMWOVersion.String())
		}
	}
	return vs
}
