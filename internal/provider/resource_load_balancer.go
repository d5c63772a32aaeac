// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

// foobar_load_balancer: HAProxy on one host. This file is the Terraform
// glue; the host work is internal/haproxy's (Deploy, Inspect, Remove), over
// the safe-apply engine (internal/apply).
//
//   - Plan: attribute validators (the haproxy package's checks through
//     validators.StringFunc) refuse every bad value with its path;
//     ValidateConfig runs haproxy.Config.Validate for cross-field problems
//     (unknown backend, duplicate names, overlapping binds); ModifyPlan
//     renders haproxy.cfg and plans rendered_config (with the stats
//     password redacted) and config_sha256. Nothing touches the host.
//   - Apply: lbDeployment converts the model into a haproxy.Deployment
//     (the Config, install, which secrets are write-only) and
//     haproxy.Deploy probes, installs when allowed, and applies (haproxy -c
//     in place, atomic swap, reload, verification, rollback). Its
//     *fault.StepError becomes a diagnostic (errorContext.addError).
//   - Read: haproxy.Inspect returns the redacted haproxy.cfg (with drift
//     notes), the version and, when the host runs what this provider wrote,
//     its haproxy.Record; lbModelFromRecord turns that back into a model
//     (import, or a change applied from another state).
//   - Delete: haproxy.Remove puts back the file found before the first
//     apply (Debian's stock haproxy.cfg) and reloads.

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

var (
	_ resource.ResourceWithConfigure      = (*loadBalancerResource)(nil)
	_ resource.ResourceWithImportState    = (*loadBalancerResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*loadBalancerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*loadBalancerResource)(nil)
)

// NewLoadBalancerResource is the foobar_load_balancer resource.
func NewLoadBalancerResource() resource.Resource { return &loadBalancerResource{} }

type loadBalancerResource struct{ data *providerData }

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
	Timeouts     *lbBackendTimeoutsModel `tfsdk:"timeouts"`
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

func (r *loadBalancerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_load_balancer"
}

func (r *loadBalancerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *loadBalancerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = loadBalancerSchema()
}

// --- plan-time checks ------------------------------------------------------

// lbLeafCheck is the check of one attribute, by its path pattern (list
// indices left out, as in "backends.servers.address"). The same check runs
// as the attribute's validator and decides, in ValidateConfig, whether a
// problem haproxy.Config.Validate reports at that attribute was already
// reported by the validator.
type lbLeafCheck struct {
	desc   string
	str    func(string) error
	num    func(int64) error
	secret bool
}

func lbRangeCheck(lo, hi int64, unit string) func(int64) error {
	return func(n int64) error {
		if n < lo || n > hi {
			return fmt.Errorf("out of range (%d-%d%s)", lo, hi, unit)
		}
		return nil
	}
}

func lbIntCheck(f func(int) error) func(int64) error {
	return func(n int64) error {
		if n < -1<<31 || n > 1<<31-1 {
			return fmt.Errorf("%d is out of range", n)
		}
		return f(int(n))
	}
}

const lbMaxConnLimit = 10_000_000

var lbChecks = func() map[string]lbLeafCheck {
	dur := lbLeafCheck{desc: "an HAProxy time such as 5s, 100ms or 1m", str: haproxy.ValidateDuration}
	name := lbLeafCheck{desc: "a name of letters, digits, '_', '.', ':' and '-'", str: haproxy.ValidateName}
	port := lbLeafCheck{desc: "a TCP port (1-65535)", num: lbIntCheck(haproxy.ValidatePort)}
	maxconn := lbLeafCheck{desc: "a number of connections", num: lbRangeCheck(1, lbMaxConnLimit, "")}
	bind := lbLeafCheck{desc: "an IPv4 or IPv6 address", str: haproxy.ValidateBindAddress}
	m := map[string]lbLeafCheck{
		"maxconn":         maxconn,
		"nbthread":        {desc: "a number of threads", num: lbRangeCheck(1, 1024, "")},
		"hard_stop_after": dur,

		"frontends.name":                      name,
		"frontends.bind_address":              bind,
		"frontends.port":                      port,
		"frontends.maxconn":                   maxconn,
		"frontends.tls.port":                  port,
		"frontends.hsts_max_age":              {desc: "a number of seconds", num: lbRangeCheck(0, 1<<30, " seconds")},
		"frontends.rules.host":                {desc: "a host name", str: haproxy.ValidateHostname},
		"frontends.rules.path_prefix":         {desc: "a URL path starting with /", str: haproxy.ValidatePath},
		"frontends.rules.backend":             name,
		"frontends.default_backend":           name,
		"backends.name":                       name,
		"backends.balance":                    {desc: "an HAProxy balance algorithm", str: haproxy.ValidateBalance},
		"backends.sticky_cookie":              {desc: "a cookie name", str: haproxy.ValidateCookieName},
		"backends.servers.name":               name,
		"backends.servers.address":            {desc: "an IP address or a host name", str: haproxy.ValidateAddress},
		"backends.servers.port":               port,
		"backends.servers.weight":             {desc: "a weight (0-256)", num: lbIntCheck(haproxy.ValidateWeight)},
		"backends.servers.maxconn":            maxconn,
		"backends.health_check.path":          {desc: "a request URI starting with /", str: haproxy.ValidateRequestURI},
		"backends.health_check.host":          {desc: "a host name", str: haproxy.ValidateHostname},
		"backends.health_check.expect_status": {desc: "an HTTP status code", num: lbIntCheck(haproxy.ValidateStatusCode)},
		"backends.health_check.interval":      dur,
		"backends.health_check.rise":          {desc: "a count of checks", num: lbRangeCheck(1, 100, "")},
		"backends.health_check.fall":          {desc: "a count of checks", num: lbRangeCheck(1, 100, "")},
		"stats.bind_address":                  bind,
		"stats.port":                          port,
		"stats.uri":                           {desc: "a request URI starting with /", str: haproxy.ValidateRequestURI},
		"stats.user":                          {desc: "a user name", str: haproxy.ValidateUser},
		"stats.password":                      {desc: "a password", str: haproxy.ValidatePassword, secret: true},
		"stats.password_wo":                   {desc: "a password", str: haproxy.ValidatePassword, secret: true},
		"stats.refresh":                       dur,
	}
	for _, t := range []string{"connect", "client", "server", "http_request", "http_keep_alive", "queue"} {
		m["timeouts."+t] = dur
	}
	for _, t := range []string{"client", "http_request", "http_keep_alive"} {
		m["frontends.timeouts."+t] = dur
	}
	for _, t := range []string{"connect", "server", "queue"} {
		m["backends.timeouts."+t] = dur
	}
	return m
}()

// lbStrV returns the validators of a string attribute from lbChecks.
func lbStrV(pat string, more ...validator.String) []validator.String {
	c, ok := lbChecks[pat]
	if !ok || c.str == nil {
		panic("no string check for " + pat)
	}
	v := validators.StringFunc(c.desc, c.str)
	if c.secret {
		v = validators.SecretStringFunc(c.desc, c.str)
	}
	return append([]validator.String{v}, more...)
}

// lbIntV returns the validators of a number attribute from lbChecks.
func lbIntV(pat string) []validator.Int64 {
	c, ok := lbChecks[pat]
	if !ok || c.num == nil {
		panic("no number check for " + pat)
	}
	return []validator.Int64{validators.Int64Func(c.desc, c.num)}
}

var lbIndexRE = regexp.MustCompile(`\[\d+\]`)

// lbPattern strips list indices from an attribute path string.
func lbPattern(p string) string { return lbIndexRE.ReplaceAllString(p, "") }

// lbAttrPath turns "backends[0].servers[1].port" into a framework path.
func lbAttrPath(s string) path.Path {
	var p path.Path
	first := true
	for _, seg := range strings.Split(s, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if first {
			p = path.Root(name)
			first = false
		} else {
			p = p.AtName(name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if err != nil {
				break
			}
			p = p.AtListIndex(n)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

// ValidateConfig runs the haproxy package's whole-config validation (unknown
// backends, duplicate names, overlapping listeners, certificate and key
// that do not match) when the configuration is fully known. Problems an
// attribute validator already reported are not repeated.
func (r *loadBalancerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !req.Config.Raw.IsFullyKnown() {
		return
	}
	var m lbModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, cv := lbBuildConfig(m, m)
	cv.errorContext(true).addError(&resp.Diagnostics, "Invalid Load Balancer Configuration", cfg.Validate())
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
	case "frontends.tls.certificate_pem":
		_, hasKey := cv.values[strings.TrimSuffix(p, "certificate_pem")+"private_key_pem"]
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

// --- conversion to haproxy.Config ----------------------------------------------

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

func lbBoolOr(v types.Bool, def bool) bool {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	return v.ValueBool()
}

// lbBuildConfig converts the plan (or state) model m into a haproxy.Config;
// write-only values come from cfgModel, the configuration (the plan never
// holds them).
func lbBuildConfig(m, cfgModel lbModel) (haproxy.Config, *lbConverter) {
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
			RedirectToHTTPS: lbBoolOr(f.RedirectToHTTPS, false),
			HSTSMaxAge:      cv.num(p+".hsts_max_age", f.HSTSMaxAge),
			ForwardFor:      lbBoolOr(f.ForwardFor, true),
			ForwardedProto:  lbBoolOr(f.ForwardedProto, true),
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
				Backup:   lbBoolOr(s.Backup, false),
				MaxConn:  cv.num(sp+".maxconn", s.MaxConn),
				Disabled: lbBoolOr(s.Disabled, false),
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
			Prometheus:  lbBoolOr(s.Prometheus, false),
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

// lbDeployment is what haproxy.Deploy applies for the plan (or state) model
// m; write-only values come from cfgModel, the configuration.
func lbDeployment(m, cfgModel lbModel) (haproxy.Deployment, *lbConverter) {
	c, cv := lbBuildConfig(m, cfgModel)
	d := haproxy.Deployment{Config: c, Install: lbBoolOr(m.Install, true)}
	if s := m.Stats; s != nil && s.Password.IsNull() && c.Stats.Password != "" {
		d.WriteOnly.StatsPassword = &haproxy.SecretVersion{Version: lbVersion(s.PasswordWOVersion)}
	}
	for _, f := range m.Frontends {
		if f.TLS != nil && f.TLS.PrivateKeyPEM.IsNull() {
			if d.WriteOnly.TLSKeys == nil {
				d.WriteOnly.TLSKeys = map[string]haproxy.SecretVersion{}
			}
			d.WriteOnly.TLSKeys[f.Name.ValueString()] = haproxy.SecretVersion{Version: lbVersion(f.TLS.PrivateKeyPEMWOVersion)}
		}
	}
	return d, cv
}

func lbVersion(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := v.ValueInt64()
	return &n
}

// lbModelFromRecord is the inverse of lbDeployment: m with every attribute
// but the connection and the computed ones taken from the record on the
// host (an import, or a change applied from another state). Zero values
// become null; write-only values stay null, their versions are restored.
func lbModelFromRecord(m lbModel, rec *haproxy.Record) lbModel {
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
				Interval: str(hc.Interval), Rise: num(hc.Rise), Fall: num(hc.Fall)}
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

// lbSameModel reports whether two models as the state holds them (no
// write-only values) describe the same deployment: the same haproxy.Config,
// install setting and write-only versions. Read keeps the state's model
// when the host's record says the same thing in other words (a null where
// the configuration has an explicit zero, an empty block). A model that
// does not convert exactly (an unknown value, a number out of range) is
// the same as nothing: two such models could build equal Configs while
// saying different things, and Read then takes the host's record.
func lbSameModel(a, b lbModel) bool {
	ca, cva := lbBuildConfig(a, a)
	cb, cvb := lbBuildConfig(b, b)
	if len(cva.inexact) > 0 || len(cvb.inexact) > 0 {
		return false
	}
	return reflect.DeepEqual(ca, cb) && a.Install.Equal(b.Install) && slices.Equal(lbVersions(a), lbVersions(b))
}

func lbVersions(m lbModel) []string {
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

// --- plan ------------------------------------------------------------------------

// ModifyPlan renders the configuration and plans rendered_config (the
// redacted view of haproxy.cfg) and config_sha256, so that a plan shows
// the exact change that will reach the host. A configuration that is not
// fully known yet leaves them unknown.
func (r *loadBalancerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var state *lbModel
	if !req.State.Raw.IsNull() {
		state = &lbModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	host := types.StringUnknown()
	var hostVal types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("ssh").AtName("host"), &hostVal)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !hostVal.IsUnknown() {
		host = hostVal
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), host)...)

	// The version stays what Read found, unless HAProxy is missing (an
	// apply installs it) or the resource is new.
	version := types.StringUnknown()
	if state != nil && state.HAProxyVersion.ValueString() != "" && host.Equal(state.SSH.Host) {
		version = state.HAProxyVersion
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("haproxy_version"), version)...)

	if !req.Config.Raw.IsFullyKnown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_config"), types.StringUnknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("config_sha256"), types.StringUnknown())...)
		return
	}
	var plan, config lbModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, cv := lbBuildConfig(plan, config)
	rendered, err := cfg.Render()
	if err != nil {
		cv.errorContext(false).addError(&resp.Diagnostics, "Invalid Load Balancer Configuration", err)
		return
	}
	view := haproxy.Redact(rendered)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rendered_config"), types.StringValue(string(view)))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("config_sha256"), types.StringValue(apply.Checksum(view)))...)
}

// --- CRUD ------------------------------------------------------------------------

func (r *loadBalancerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config lbModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.applyModel(ctx, &plan, config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *loadBalancerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config lbModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.applyModel(ctx, &plan, config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// lbLog sends the haproxy package's progress messages to tflog.
func lbLog(ctx context.Context) func(string, map[string]any) {
	return func(msg string, fields map[string]any) { tflog.Info(ctx, msg, fields) }
}

// applyModel deploys m (haproxy.Deploy) and fills its computed attributes.
func (r *loadBalancerResource) applyModel(ctx context.Context, m *lbModel, config lbModel, diags *diag.Diagnostics) {
	d, cv := lbDeployment(*m, config)
	ctx = maskSecrets(ctx, cv.secrets)
	cl, dg := r.data.client(ctx, m.SSH)
	diags.Append(dg...)
	if diags.HasError() {
		return
	}
	d.Host, d.Log = cl.Addr(), lbLog(ctx)
	res, err := haproxy.Deploy(ctx, cl, d)
	for _, w := range res.Warnings {
		diags.AddWarning("HAProxy Apply Warning", w)
	}
	if err != nil {
		cv.errorContext(false).addError(diags, "Apply HAProxy Config Error", err)
		return
	}
	m.ID = m.SSH.Host
	m.RenderedConfig = types.StringValue(string(res.View))
	m.ConfigSHA256 = types.StringValue(apply.Checksum(res.View))
	m.HAProxyVersion = types.StringValue(res.Version)
}

// Read takes haproxy.cfg (its redacted view, with a note when only a secret
// or a TLS bundle changed) and the version from the host. When the host's
// record matches its haproxy.cfg, the host runs what this provider wrote:
// the model is taken from the record (an import, or a change applied from
// another state) unless the state already says the same.
func (r *loadBalancerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m lbModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, m.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	obs, err := haproxy.Inspect(ctx, cl, haproxy.InspectRequest{Host: cl.Addr(), Shown: []byte(m.RenderedConfig.ValueString())})
	if obs.VersionErr != nil {
		resp.Diagnostics.AddWarning("Read HAProxy Version", fmt.Sprintf("%s: %s", cl.Addr(), obs.VersionErr))
	}
	if err != nil {
		errorContext{}.addError(&resp.Diagnostics, "Read HAProxy Config Error", err)
		return
	}
	m.HAProxyVersion = types.StringValue(obs.Version)
	if m.ID.IsNull() || m.ID.ValueString() == "" {
		m.ID = m.SSH.Host
	}
	if obs.Record != nil {
		if rec := lbModelFromRecord(m, obs.Record); !lbSameModel(m, rec) {
			m = rec
		}
	}
	// A missing haproxy.cfg reads as empty: an update puts it back (and
	// installs HAProxy when install = true).
	m.RenderedConfig = types.StringValue(string(obs.View))
	m.ConfigSHA256 = types.StringValue(apply.Checksum(obs.View))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *loadBalancerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m lbModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.deleteModel(ctx, &m, &resp.Diagnostics)
}

// deleteModel gives the host back the configuration found before the first
// apply and reloads HAProxy, which keeps running (haproxy.Remove).
func (r *loadBalancerResource) deleteModel(ctx context.Context, m *lbModel, diags *diag.Diagnostics) {
	cl, d := r.data.client(ctx, m.SSH)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	warnings, err := haproxy.Remove(ctx, cl, haproxy.Removal{Host: cl.Addr()})
	if err != nil {
		errorContext{}.addError(diags, "Restore HAProxy Config Error", err)
		return
	}
	for _, w := range warnings {
		diags.AddWarning("HAProxy Cleanup Warning", w)
	}
	tflog.Info(ctx, "restored the original HAProxy configuration", map[string]any{"host": cl.Addr()})
}

// ImportState takes "HOST", "USER@HOST", "HOST:PORT" or "USER@HOST:PORT"
// ("[v6]:PORT" for IPv6 with a port). Everything else about the connection
// comes from the provider block.
func (r *loadBalancerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	user, host, port, err := lbParseImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	conn := hostConnection(host)
	if user != "" {
		conn.User = types.StringValue(user)
	}
	if port != 0 {
		conn.Port = types.Int64Value(int64(port))
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ssh"), conn)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), host)...)
}

func lbParseImportID(id string) (user, host string, port int, err error) {
	bad := fmt.Errorf("import ID %q is not HOST, USER@HOST, HOST:PORT or USER@HOST:PORT (IPv6 with a port: [ADDR]:PORT)", id)
	rest := id
	if u, h, ok := strings.Cut(id, "@"); ok {
		if validators.CheckUser(u) != nil {
			return "", "", 0, bad
		}
		user, rest = u, h
	}
	host = rest
	if strings.HasPrefix(rest, "[") || strings.Count(rest, ":") == 1 {
		h, p, serr := net.SplitHostPort(rest)
		if serr != nil {
			return "", "", 0, bad
		}
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return "", "", 0, bad
		}
		host, port = h, n
	}
	if validators.CheckHost(host) != nil {
		return "", "", 0, bad
	}
	return user, host, port, nil
}

// --- schema ------------------------------------------------------------------------

func lbOptString(desc string, vals []validator.String) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Validators: vals}
}

func lbOptInt(desc string, vals []validator.Int64) schema.Int64Attribute {
	return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, Validators: vals}
}

func lbOptBool(desc string, def bool) schema.BoolAttribute {
	return schema.BoolAttribute{MarkdownDescription: desc, Optional: true, Computed: true, Default: booldefault.StaticBool(def)}
}

func lbDurDesc(what, def string) string {
	d := what + " HAProxy time format: a number with a unit `ms`, `s`, `m`, `h` or `d` (a bare number is milliseconds)."
	if def != "" {
		d += " Default: `" + def + "`."
	}
	return d
}

// loadBalancerSchema is the resource schema, in a function of its own
// (Schema returns it, and tests read it; there is no state upgrader).
func loadBalancerSchema() schema.Schema {
	timeouts := schema.SingleNestedAttribute{
		MarkdownDescription: "Timeouts of every frontend and backend (HAProxy's `defaults` section), unless a frontend or backend overrides them.",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"connect":         lbOptString(lbDurDesc("Maximum time to establish the TCP connection to a server.", haproxy.DefaultTimeoutConnect), lbStrV("timeouts.connect")),
			"client":          lbOptString(lbDurDesc("Maximum inactivity of a client in the middle of a request or response.", haproxy.DefaultTimeoutClient), lbStrV("timeouts.client")),
			"server":          lbOptString(lbDurDesc("Maximum inactivity of a server (time to the first byte of the response, and between bytes).", haproxy.DefaultTimeoutServer), lbStrV("timeouts.server")),
			"http_request":    lbOptString(lbDurDesc("Maximum time a client may take to send a complete request header (protects against slowloris).", haproxy.DefaultTimeoutHTTPRequest), lbStrV("timeouts.http_request")),
			"http_keep_alive": lbOptString(lbDurDesc("How long an idle keep-alive client connection waits for its next request.", haproxy.DefaultTimeoutHTTPKeepAlive), lbStrV("timeouts.http_keep_alive")),
			"queue":           lbOptString(lbDurDesc("Maximum time a request waits for a free server slot when every server is at its `maxconn`.", haproxy.DefaultTimeoutQueue), lbStrV("timeouts.queue")),
		},
	}
	tls := schema.SingleNestedAttribute{
		MarkdownDescription: "An HTTPS listener on the frontend's `bind_address` (HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2 or newer, Mozilla's intermediate ciphers). " +
			"The certificate and key are written together to a root-only file under `" + haproxy.FilesDir + "` whose name carries a hash of its content, " +
			"so a new certificate never overwrites the one the running configuration uses.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"port": lbOptInt(fmt.Sprintf("Port of the HTTPS listener. Default: `%d`.", haproxy.DefaultTLSPort), lbIntV("frontends.tls.port")),
			"certificate_pem": schema.StringAttribute{
				MarkdownDescription: "Server certificate in PEM format, optionally followed by its intermediate certificates.",
				Required:            true,
			},
			"private_key_pem": schema.StringAttribute{
				MarkdownDescription: "Private key of the certificate, PEM encoded. Sensitive: it is kept in the Terraform state. " +
					"Prefer `private_key_pem_wo` with Terraform 1.11 or newer. Exactly one of the two must be set.",
				Optional:  true,
				Sensitive: true,
				Validators: []validator.String{
					stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("private_key_pem_wo")),
				},
			},
			"private_key_pem_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only form of `private_key_pem` (Terraform 1.11 or newer): never stored in the plan or state. " +
					"Terraform cannot compare write-only values; a new key still shows in the plan because the TLS file's name in `rendered_config` " +
					"carries a hash of the certificate and key, but change `private_key_pem_wo_version` when you rotate the key so the change is explicit.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"private_key_pem_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; changing it makes the next apply write `private_key_pem_wo` again. Only with `private_key_pem_wo`.",
				Optional:            true,
				Validators: []validator.Int64{
					int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("private_key_pem_wo")),
				},
			},
		},
	}
	rules := schema.ListNestedAttribute{
		MarkdownDescription: "Routing rules, tried in order; the first one whose conditions all match sends the request to its backend. " +
			"Requests no rule matches go to `default_backend`.",
		Optional: true,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"host":        lbOptString("Matches requests whose `Host` header is exactly this name (case-insensitive, port ignored).", lbStrV("frontends.rules.host")),
			"path_prefix": lbOptString("Matches requests whose path starts with this prefix, such as `/api/`.", lbStrV("frontends.rules.path_prefix")),
			"backend": schema.StringAttribute{
				MarkdownDescription: "Name of the backend that serves matching requests.",
				Required:            true, Validators: lbStrV("frontends.rules.backend"),
			},
		}},
	}
	frontend := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"name": schema.StringAttribute{
			MarkdownDescription: "Name of the frontend in logs and statistics: letters, digits, `_`, `.`, `:` and `-`. `stats` is reserved.",
			Required:            true, Validators: lbStrV("frontends.name"),
		},
		"bind_address":      lbOptString("Local IP address to listen on. Default: every IPv4 address; `::` listens on every IPv6 and IPv4 address.", lbStrV("frontends.bind_address")),
		"port":              lbOptInt("Port of the plain-HTTP listener. Unset: no plain-HTTP listener (then `tls` is required).", lbIntV("frontends.port")),
		"maxconn":           lbOptInt("Maximum concurrent client connections on this frontend. Default: only the global `maxconn` applies.", lbIntV("frontends.maxconn")),
		"tls":               tls,
		"redirect_to_https": lbOptBool("Answer plain-HTTP requests with a `301` redirect to the same URL over HTTPS. Needs `port` and `tls`. Default: `false`.", false),
		"hsts_max_age":      lbOptInt("Adds `Strict-Transport-Security: max-age=N` (seconds) to HTTPS responses. Needs `tls`. Default: no header.", lbIntV("frontends.hsts_max_age")),
		"forward_for":       lbOptBool("Adds the client's address to requests in an `X-Forwarded-For` header. Default: `true`.", true),
		"forwarded_proto":   lbOptBool("Sets `X-Forwarded-Proto` to `http` or `https` on requests. Default: `true`.", true),
		"timeouts": schema.SingleNestedAttribute{
			MarkdownDescription: "Client-side timeouts of this frontend; unset fields keep the load balancer's `timeouts`.",
			Optional:            true,
			Attributes: map[string]schema.Attribute{
				"client":          lbOptString(lbDurDesc("Maximum client inactivity.", ""), lbStrV("frontends.timeouts.client")),
				"http_request":    lbOptString(lbDurDesc("Maximum time to receive a complete request header.", ""), lbStrV("frontends.timeouts.http_request")),
				"http_keep_alive": lbOptString(lbDurDesc("How long an idle keep-alive connection waits for the next request.", ""), lbStrV("frontends.timeouts.http_keep_alive")),
			},
		},
		"rules":           rules,
		"default_backend": lbOptString("Backend that serves requests no rule matched. Required when the frontend has no `rules`.", lbStrV("frontends.default_backend")),
	}}
	server := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"name": schema.StringAttribute{
			MarkdownDescription: "Name of the server, unique in its backend (also the value of the sticky cookie).",
			Required:            true, Validators: lbStrV("backends.servers.name"),
		},
		"address": schema.StringAttribute{
			MarkdownDescription: "IPv4 or IPv6 address or host name of the server (a name is resolved when HAProxy starts or reloads).",
			Required:            true, Validators: lbStrV("backends.servers.address"),
		},
		"port": schema.Int64Attribute{
			MarkdownDescription: "Port the server listens on.",
			Required:            true, Validators: lbIntV("backends.servers.port"),
		},
		"weight":   lbOptInt("Share of the traffic relative to the other servers (0-256; 0 sends no new traffic). Default: HAProxy's `1`.", lbIntV("backends.servers.weight")),
		"backup":   lbOptBool("A backup server gets traffic only when no other server is up. Default: `false`.", false),
		"maxconn":  lbOptInt("Maximum concurrent connections to this server; further requests wait in the queue (`timeouts.queue`). Default: no limit.", lbIntV("backends.servers.maxconn")),
		"disabled": lbOptBool("Puts the server in maintenance: no traffic, no health checks. Default: `false`.", false),
	}}
	backend := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"name": schema.StringAttribute{
			MarkdownDescription: "Name of the backend, used by `default_backend` and `rules`.",
			Required:            true, Validators: lbStrV("backends.name"),
		},
		"balance": lbOptString("Load-balancing algorithm: `roundrobin`, `static-rr`, `leastconn`, `first`, `source`, `uri`, `random`, `rdp-cookie`, "+
			"`url_param NAME`, `hdr(NAME)` or `rdp-cookie(NAME)`. Default: `"+haproxy.DefaultBalance+"`.", lbStrV("backends.balance")),
		"servers": schema.ListNestedAttribute{
			MarkdownDescription: "Servers of the backend. A request whose connection to a server fails is retried (3 times, the last one on another server: `option redispatch`), so a dying server does not fail requests; requests other than GET and HEAD are retried only when they never reached the server.",
			Required:            true, NestedObject: server,
			Validators: []validator.List{listvalidator.SizeAtLeast(1)},
		},
		"health_check": schema.SingleNestedAttribute{
			MarkdownDescription: "HTTP health checks of the servers. Without it, servers get TCP connect checks.",
			Optional:            true,
			Attributes: map[string]schema.Attribute{
				"path":          lbOptString("Request URI of the check. Default: `"+haproxy.DefaultHealthCheckPath+"`.", lbStrV("backends.health_check.path")),
				"host":          lbOptString("`Host` header of the check (the check then uses HTTP/1.1). Default: none (HTTP/1.0).", lbStrV("backends.health_check.host")),
				"expect_status": lbOptInt("The only HTTP status accepted as healthy. Default: any 2xx or 3xx status.", lbIntV("backends.health_check.expect_status")),
				"interval":      lbOptString(lbDurDesc("Time between two checks of a server.", haproxy.DefaultHealthCheckInterval), lbStrV("backends.health_check.interval")),
				"rise":          lbOptInt(fmt.Sprintf("Consecutive successful checks that bring a server back up. Default: `%d`.", haproxy.DefaultHealthCheckRise), lbIntV("backends.health_check.rise")),
				"fall":          lbOptInt(fmt.Sprintf("Consecutive failed checks that take a server down. A server is taken out of rotation within `fall` × `interval`. Default: `%d`.", haproxy.DefaultHealthCheckFall), lbIntV("backends.health_check.fall")),
			},
		},
		"sticky_cookie": lbOptString("Name of a cookie HAProxy inserts to keep a client on the same server. Default: no stickiness.", lbStrV("backends.sticky_cookie")),
		"timeouts": schema.SingleNestedAttribute{
			MarkdownDescription: "Server-side timeouts of this backend; unset fields keep the load balancer's `timeouts`.",
			Optional:            true,
			Attributes: map[string]schema.Attribute{
				"connect": lbOptString(lbDurDesc("Maximum time to connect to a server.", ""), lbStrV("backends.timeouts.connect")),
				"server":  lbOptString(lbDurDesc("Maximum server inactivity.", ""), lbStrV("backends.timeouts.server")),
				"queue":   lbOptString(lbDurDesc("Maximum time in the queue.", ""), lbStrV("backends.timeouts.queue")),
			},
		},
	}}
	stats := schema.SingleNestedAttribute{
		MarkdownDescription: "A listener for HAProxy's statistics page and, optionally, its Prometheus exporter.",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"bind_address": lbOptString("IP address of the stats listener. Default: `"+haproxy.DefaultStatsBind+"` (not reachable from other hosts).", lbStrV("stats.bind_address")),
			"port":         lbOptInt(fmt.Sprintf("Port of the stats listener. Default: `%d`.", haproxy.DefaultStatsPort), lbIntV("stats.port")),
			"uri":          lbOptString("Path of the statistics page. Default: `"+haproxy.DefaultStatsURI+"`.", lbStrV("stats.uri")),
			"user":         lbOptString("User name of the statistics page (HTTP basic authentication). Needs `password` or `password_wo`. Default: no authentication.", lbStrV("stats.user")),
			"password": schema.StringAttribute{
				MarkdownDescription: "Password of the statistics page: printable ASCII without spaces, quotes, backslash or `#`. Sensitive: it is kept in the state; " +
					"HAProxy needs it in clear text in `haproxy.cfg`, so `rendered_config` shows it as `" + haproxy.Redacted + "`. Prefer `password_wo` with Terraform 1.11 or newer.",
				Optional: true, Sensitive: true,
				Validators: lbStrV("stats.password", stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("password_wo"))),
			},
			"password_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only form of `password` (Terraform 1.11 or newer): never stored in the plan or state. Change `password_wo_version` to apply a new password.",
				Optional:            true, Sensitive: true, WriteOnly: true,
				Validators: lbStrV("stats.password_wo"),
			},
			"password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; changing it makes the next apply write `password_wo` again. Only with `password_wo`.",
				Optional:            true,
				Validators: []validator.Int64{
					int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("password_wo")),
				},
			},
			"refresh":    lbOptString(lbDurDesc("Auto-refresh interval of the statistics page.", haproxy.DefaultStatsRefresh), lbStrV("stats.refresh")),
			"prometheus": lbOptBool("Serve HAProxy's built-in Prometheus exporter at `"+haproxy.PrometheusPath+"` on the stats listener (not protected by `user`/`password`). Default: `false`.", false),
		},
	}
	return schema.Schema{
		MarkdownDescription: "HAProxy on one host, as a load balancer for HTTP and HTTPS: frontends, backends with health checks, routing rules, TLS, statistics and Prometheus metrics.\n\n" +
			"The provider renders `" + haproxy.ConfigPath + "` and applies it safely: HAProxy is installed when missing (apt or dnf), the new file is checked with `haproxy -c` " +
			"next to the old one, swapped atomically and reloaded without dropping connections (master-worker mode; the listening sockets pass to the new worker). " +
			"The apply then checks that a new worker really started and that every listener answers; on any failure the previous file is put back and reloaded. " +
			"A second apply with no change writes and reloads nothing. A hand edit on the host shows in the next plan as an update of `rendered_config`, and apply puts the managed file back. " +
			"Destroying the resource restores the file that was there before the first apply (for example Debian's stock `haproxy.cfg`) and reloads; HAProxy keeps running.\n\n" +
			"Every value that reaches the file is checked at plan time, so a typo is refused before anything touches the host. " +
			"Rendered defaults (measured with `make bench`): keep-alive to clients and servers, idle server connections reused (`http-reuse safe`), one thread per CPU, " +
			"3 retries with redispatch on connection failures, and HTTP health checks every 2s taking a server out after 3 failures.",
		Attributes: map[string]schema.Attribute{
			"ssh": connectionSchema(),
			"id": schema.StringAttribute{
				MarkdownDescription: "The host's address (`ssh.host`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"install":         lbOptBool("Install HAProxy (apt-get on Debian and Ubuntu, dnf or yum on the RHEL family, whichever the host has) when it is missing. With `false`, a host without HAProxy is an error. Default: `true`.", true),
			"maxconn":         lbOptInt(fmt.Sprintf("Process-wide limit of concurrent connections (global `maxconn`). Each connection costs about 32 KiB of buffers. Default: `%d`.", haproxy.DefaultMaxConn), lbIntV("maxconn")),
			"nbthread":        lbOptInt("Number of worker threads. Default: one per CPU HAProxy may run on. Debian's HAProxy 2.6 accepts at most 64.", lbIntV("nbthread")),
			"hard_stop_after": lbOptString(lbDurDesc("Bounds how long the old worker keeps serving its open connections after a reload.", "")+" Default: no bound (old workers exit when their last connection closes).", lbStrV("hard_stop_after")),
			"timeouts":        timeouts,
			"frontends": schema.ListNestedAttribute{
				MarkdownDescription: "Listeners that accept client traffic (mode http). At least one.",
				Required:            true, NestedObject: frontend,
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"backends": schema.ListNestedAttribute{
				MarkdownDescription: "Pools of servers the frontends route to.",
				Required:            true, NestedObject: backend,
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"stats": stats,
			"rendered_config": schema.StringAttribute{
				MarkdownDescription: "The `haproxy.cfg` this resource writes (after apply: the file found on the host), so a plan shows the exact change. " +
					"Secrets are shown as `" + haproxy.Redacted + "`; the real bytes exist only on the host.",
				Computed: true,
			},
			"config_sha256": schema.StringAttribute{
				MarkdownDescription: "SHA-256 of `rendered_config` (it equals the SHA-256 of the file on the host when the file holds no secret).",
				Computed:            true,
			},
			"haproxy_version": schema.StringAttribute{
				MarkdownDescription: "Version of HAProxy on the host, such as `2.6.12-1+deb12u3`.",
				Computed:            true,
			},
		},
	}
}
