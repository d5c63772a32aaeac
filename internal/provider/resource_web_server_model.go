// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	ppath "path"
	"path/filepath"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

// Defaults of the schema (also applied when converting a configuration in
// ValidateConfig, where defaults are not yet filled in).
const (
	defListenPort        = 80
	defTLSPort           = 443
	defUpstreamKeepalive = 16
	defHealthPath        = "/healthz"
	defHealthTimeout     = "60s"
	defRestartMode       = "on-failure"
	defRestartDelay      = 1
	defHSTSMaxAge        = 31536000
	defAppBaseDir        = "/opt/foobar"
)

type webServerModel struct {
	SSH                connectionModel `tfsdk:"ssh"`
	ID                 types.String    `tfsdk:"id"`
	Name               types.String    `tfsdk:"name"`
	Install            types.Bool      `tfsdk:"install"`
	ServerNames        types.List      `tfsdk:"server_names"`
	ListenPort         types.Int64     `tfsdk:"listen_port"`
	ListenIPv6         types.Bool      `tfsdk:"listen_ipv6"`
	DefaultServer      types.Bool      `tfsdk:"default_server"`
	DisableDefaultSite types.Bool      `tfsdk:"disable_default_site"`
	TLS                *tlsModel       `tfsdk:"tls"`
	AccessLog          types.String    `tfsdk:"access_log"`
	ErrorLog           types.String    `tfsdk:"error_log"`
	Gzip               *gzipModel      `tfsdk:"gzip"`
	ClientMaxBodySize  types.String    `tfsdk:"client_max_body_size"`
	Timeouts           *timeoutsModel  `tfsdk:"timeouts"`
	SecurityHeaders    *secHeaderModel `tfsdk:"security_headers"`
	ResponseHeaders    types.Map       `tfsdk:"response_headers"`
	UpstreamKeepalive  types.Int64     `tfsdk:"upstream_keepalive"`
	DocumentRoot       types.String    `tfsdk:"document_root"`
	SourceDir          types.String    `tfsdk:"source_dir"`
	StaticLocations    types.List      `tfsdk:"static_locations"`
	App                *appModel       `tfsdk:"app"`
	Drain              *drainModel     `tfsdk:"drain"`

	SiteConfig       types.String `tfsdk:"site_config"`
	SiteChecksum     types.String `tfsdk:"site_checksum"`
	ArtifactChecksum types.String `tfsdk:"artifact_checksum"`
	StaticChecksum   types.String `tfsdk:"static_checksum"`
	NginxVersion     types.String `tfsdk:"nginx_version"`
	InitSystem       types.String `tfsdk:"init_system"`
	AppState         types.String `tfsdk:"app_state"`
	AppPID           types.Int64  `tfsdk:"app_pid"`
	LastSync         types.Object `tfsdk:"last_sync"`
	Drift            types.List   `tfsdk:"drift"`
}

type drainModel struct {
	HealthCheckInterval types.String `tfsdk:"health_check_interval"`
	Fall                types.Int64  `tfsdk:"fall"`
	Rise                types.Int64  `tfsdk:"rise"`
	InFlightTimeout     types.String `tfsdk:"in_flight_timeout"`
}

// Defaults of drain.
const (
	defDrainFall     = 2
	defDrainRise     = 2
	defDrainInFlight = "30s"
)

// toDrain is the drain of the application's restarts; nil without one.
func (m *webServerModel) toDrain(c *conv) *nginx.Drain {
	d := m.Drain
	if d == nil {
		return nil
	}
	interval, _ := time.ParseDuration(c.str(d.HealthCheckInterval, ""))
	inFlight, _ := time.ParseDuration(c.str(d.InFlightTimeout, defDrainInFlight))
	return &nginx.Drain{Interval: interval, Fall: c.i64(d.Fall, defDrainFall), Rise: c.i64(d.Rise, defDrainRise), InFlightTimeout: inFlight}
}

type tlsModel struct {
	CertificatePEM         types.String `tfsdk:"certificate_pem"`
	PrivateKeyPEM          types.String `tfsdk:"private_key_pem"`
	PrivateKeyPEMWO        types.String `tfsdk:"private_key_pem_wo"`
	PrivateKeyPEMWOVersion types.Int64  `tfsdk:"private_key_pem_wo_version"`
	Port                   types.Int64  `tfsdk:"port"`
	HTTP2                  types.Bool   `tfsdk:"http2"`
	RedirectHTTP           types.Bool   `tfsdk:"redirect_http"`
}

type gzipModel struct {
	Enabled types.Bool `tfsdk:"enabled"`
	Types   types.List `tfsdk:"types"`
}

type timeoutsModel struct {
	ClientBody   types.String `tfsdk:"client_body"`
	ClientHeader types.String `tfsdk:"client_header"`
	Keepalive    types.String `tfsdk:"keepalive"`
	ProxyConnect types.String `tfsdk:"proxy_connect"`
	ProxyRead    types.String `tfsdk:"proxy_read"`
	ProxySend    types.String `tfsdk:"proxy_send"`
}

type secHeaderModel struct {
	ContentTypeOptions    types.Bool   `tfsdk:"content_type_options"`
	FrameOptions          types.String `tfsdk:"frame_options"`
	ReferrerPolicy        types.String `tfsdk:"referrer_policy"`
	ContentSecurityPolicy types.String `tfsdk:"content_security_policy"`
	HSTS                  *hstsModel   `tfsdk:"hsts"`
}

type hstsModel struct {
	MaxAge            types.Int64 `tfsdk:"max_age"`
	IncludeSubdomains types.Bool  `tfsdk:"include_subdomains"`
	Preload           types.Bool  `tfsdk:"preload"`
}

type staticLocationModel struct {
	URLPrefix    types.String `tfsdk:"url_prefix"`
	Expires      types.String `tfsdk:"expires"`
	CacheControl types.String `tfsdk:"cache_control"`
}

type appModel struct {
	ArtifactSource             types.String  `tfsdk:"artifact_source"`
	ArtifactPath               types.String  `tfsdk:"artifact_path"`
	Command                    types.List    `tfsdk:"command"`
	Port                       types.Int64   `tfsdk:"port"`
	Environment                types.Map     `tfsdk:"environment"`
	SecretEnvironment          types.Map     `tfsdk:"secret_environment"`
	SecretEnvironmentWO        types.Map     `tfsdk:"secret_environment_wo"`
	SecretEnvironmentWOVersion types.Int64   `tfsdk:"secret_environment_wo_version"`
	User                       types.String  `tfsdk:"user"`
	Group                      types.String  `tfsdk:"group"`
	WorkingDir                 types.String  `tfsdk:"working_dir"`
	HealthCheckPath            types.String  `tfsdk:"health_check_path"`
	HealthCheckTimeout         types.String  `tfsdk:"health_check_timeout"`
	Restart                    *restartModel `tfsdk:"restart"`
	ReloadSignal               types.String  `tfsdk:"reload_signal"`
}

type restartModel struct {
	Mode         types.String `tfsdk:"mode"`
	DelaySeconds types.Int64  `tfsdk:"delay_seconds"`
}

var lastSyncAttrTypes = map[string]attr.Type{
	"files_sent":      types.Int64Type,
	"bytes_sent":      types.Int64Type,
	"files_unchanged": types.Int64Type,
	"files_removed":   types.Int64Type,
	"dirs_removed":    types.Int64Type,
}

// conv converts Terraform values (values.go's null-or-default rules), noting
// unknown ones.
type conv struct {
	ctx     context.Context
	diags   diag.Diagnostics
	unknown bool
}

func (c *conv) str(v types.String, def string) string {
	c.unknown = c.unknown || v.IsUnknown()
	return stringOr(v, def)
}

func (c *conv) i64(v types.Int64, def int) int {
	c.unknown = c.unknown || v.IsUnknown()
	return intOr(v, def)
}

func (c *conv) boolean(v types.Bool, def bool) bool {
	c.unknown = c.unknown || v.IsUnknown()
	return boolOr(v, def)
}

func (c *conv) strs(v types.List) []string {
	if v.IsUnknown() {
		c.unknown = true
		return nil
	}
	if v.IsNull() {
		return nil
	}
	var out []types.String
	c.diags.Append(v.ElementsAs(c.ctx, &out, false)...)
	res := make([]string, 0, len(out))
	for _, s := range out {
		res = append(res, c.str(s, ""))
	}
	return res
}

func (c *conv) strMap(v types.Map) map[string]string {
	if v.IsUnknown() {
		c.unknown = true
		return nil
	}
	if v.IsNull() {
		return nil
	}
	var out map[string]types.String
	c.diags.Append(v.ElementsAs(c.ctx, &out, false)...)
	res := make(map[string]string, len(out))
	for k, s := range out {
		res[k] = c.str(s, "")
	}
	return res
}

// defaults fills the computed attributes of app that depend on others
// (group, working_dir, artifact_path) when the configuration leaves them
// unset. It is what the plan shows.
func (m *webServerModel) fillAppDefaults(config *webServerModel) {
	if m.App == nil || config == nil || config.App == nil {
		return
	}
	a, ca := m.App, config.App
	if ca.Group.IsNull() && !a.User.IsUnknown() {
		a.Group = a.User
	}
	if ca.WorkingDir.IsNull() && !m.Name.IsUnknown() {
		a.WorkingDir = types.StringValue(ppath.Join(defAppBaseDir, m.Name.ValueString()))
	}
	if ca.ArtifactPath.IsNull() && !a.WorkingDir.IsUnknown() && !a.ArtifactSource.IsUnknown() {
		a.ArtifactPath = types.StringValue(ppath.Join(a.WorkingDir.ValueString(), "bin", filepath.Base(a.ArtifactSource.ValueString())))
	}
}

// toSite converts the model into an nginx.Site.
func (m *webServerModel) toSite(c *conv) nginx.Site {
	s := nginx.Site{
		Name:              c.str(m.Name, ""),
		ServerNames:       c.strs(m.ServerNames),
		ListenPort:        c.i64(m.ListenPort, defListenPort),
		ListenIPv6:        c.boolean(m.ListenIPv6, false),
		DefaultServer:     c.boolean(m.DefaultServer, false),
		AccessLog:         c.str(m.AccessLog, ""),
		ErrorLog:          c.str(m.ErrorLog, ""),
		ClientMaxBodySize: c.str(m.ClientMaxBodySize, ""),
		DocumentRoot:      c.str(m.DocumentRoot, ""),
		UpstreamKeepalive: c.i64(m.UpstreamKeepalive, defUpstreamKeepalive),
		ResponseHeaders:   c.strMap(m.ResponseHeaders),
	}
	if m.App != nil {
		s.AppPort = c.i64(m.App.Port, 0)
		if m.Drain != nil {
			s.DrainHealthPath = c.str(m.App.HealthCheckPath, defHealthPath)
		}
	}
	if t := m.TLS; t != nil {
		key := c.str(t.PrivateKeyPEM, "")
		if key == "" {
			key = c.str(t.PrivateKeyPEMWO, "")
		}
		s.TLS = &nginx.TLS{
			CertificatePEM: c.str(t.CertificatePEM, ""),
			PrivateKeyPEM:  key,
			Port:           c.i64(t.Port, defTLSPort),
			HTTP2:          c.boolean(t.HTTP2, false),
			RedirectHTTP:   c.boolean(t.RedirectHTTP, false),
		}
	}
	if g := m.Gzip; g != nil {
		s.Gzip = nginx.Gzip{Enabled: c.boolean(g.Enabled, true), Types: c.strs(g.Types)}
	}
	if t := m.Timeouts; t != nil {
		s.Timeouts = nginx.Timeouts{
			ClientBody: c.str(t.ClientBody, ""), ClientHeader: c.str(t.ClientHeader, ""), Keepalive: c.str(t.Keepalive, ""),
			ProxyConnect: c.str(t.ProxyConnect, ""), ProxyRead: c.str(t.ProxyRead, ""), ProxySend: c.str(t.ProxySend, ""),
		}
	}
	if h := m.SecurityHeaders; h != nil {
		s.SecurityHeaders = nginx.SecurityHeaders{
			ContentTypeOptions:    c.boolean(h.ContentTypeOptions, true),
			FrameOptions:          c.str(h.FrameOptions, ""),
			ReferrerPolicy:        c.str(h.ReferrerPolicy, ""),
			ContentSecurityPolicy: c.str(h.ContentSecurityPolicy, ""),
		}
		if x := h.HSTS; x != nil {
			s.SecurityHeaders.HSTS = &nginx.HSTS{
				MaxAgeSeconds:     c.i64(x.MaxAge, defHSTSMaxAge),
				IncludeSubDomains: c.boolean(x.IncludeSubdomains, false),
				Preload:           c.boolean(x.Preload, false),
			}
		}
	}
	if m.StaticLocations.IsUnknown() {
		c.unknown = true
	} else if !m.StaticLocations.IsNull() {
		var locs []staticLocationModel
		c.diags.Append(m.StaticLocations.ElementsAs(c.ctx, &locs, false)...)
		for _, l := range locs {
			s.StaticLocations = append(s.StaticLocations, nginx.StaticLocation{
				URLPrefix: c.str(l.URLPrefix, ""), Expires: c.str(l.Expires, ""), CacheControl: c.str(l.CacheControl, ""),
			})
		}
	}
	return s
}

// toApp converts the model into an nginx.App; env is the merged environment
// (nil when the secrets are not at hand, as in Read).
func (m *webServerModel) toApp(c *conv, env map[string]string) nginx.App {
	a := m.App
	if a == nil {
		return nginx.App{Name: c.str(m.Name, "")}
	}
	name := c.str(m.Name, "")
	user := c.str(a.User, "")
	workDir := c.str(a.WorkingDir, ppath.Join(defAppBaseDir, name))
	out := nginx.App{
		Name:            name,
		User:            user,
		Group:           c.str(a.Group, user),
		WorkingDir:      workDir,
		ArtifactPath:    c.str(a.ArtifactPath, ppath.Join(workDir, "bin", filepath.Base(c.str(a.ArtifactSource, "")))),
		Command:         c.strs(a.Command),
		Environment:     env,
		Port:            c.i64(a.Port, 0),
		HealthCheckPath: c.str(a.HealthCheckPath, defHealthPath),
		ReloadSignal:    c.str(a.ReloadSignal, ""),
		Restart:         nginx.RestartPolicy{Mode: defRestartMode, DelaySeconds: defRestartDelay},
	}
	if r := a.Restart; r != nil {
		out.Restart = nginx.RestartPolicy{Mode: c.str(r.Mode, defRestartMode), DelaySeconds: c.i64(r.DelaySeconds, defRestartDelay)}
	}
	return out
}

// environment merges environment, secret_environment and (from the
// configuration) secret_environment_wo. It returns the merged map and the
// secret values (for log masking).
func (m *webServerModel) environment(c *conv, config *webServerModel) (map[string]string, []string) {
	env := map[string]string{}
	var secrets []string
	if m.App == nil {
		return env, nil
	}
	for k, v := range c.strMap(m.App.Environment) {
		env[k] = v
	}
	for k, v := range c.strMap(m.App.SecretEnvironment) {
		env[k] = v
		secrets = append(secrets, v)
	}
	if config != nil && config.App != nil {
		for k, v := range c.strMap(config.App.SecretEnvironmentWO) {
			env[k] = v
			secrets = append(secrets, v)
		}
	}
	return env, secrets
}

func (m *webServerModel) healthTimeout() time.Duration {
	if m.App == nil {
		return nginx.DefaultHealthTimeout
	}
	d, err := time.ParseDuration(m.App.HealthCheckTimeout.ValueString())
	if err != nil || d <= 0 {
		return nginx.DefaultHealthTimeout
	}
	return d
}

// appUnchanged reports whether the application will keep running as it is.
func appUnchanged(state, plan *webServerModel) bool {
	if state.App == nil || plan.App == nil {
		return false
	}
	return state.AppState.ValueString() == "active" &&
		state.ArtifactChecksum.Equal(plan.ArtifactChecksum) &&
		state.App.Command.Equal(plan.App.Command) &&
		state.App.Environment.Equal(plan.App.Environment) &&
		state.App.SecretEnvironment.Equal(plan.App.SecretEnvironment) &&
		state.App.SecretEnvironmentWOVersion.Equal(plan.App.SecretEnvironmentWOVersion) &&
		state.App.Port.Equal(plan.App.Port) &&
		state.App.User.Equal(plan.App.User) &&
		state.App.Group.Equal(plan.App.Group) &&
		state.App.WorkingDir.Equal(plan.App.WorkingDir) &&
		state.App.ArtifactPath.Equal(plan.App.ArtifactPath) &&
		state.App.ReloadSignal.Equal(plan.App.ReloadSignal) &&
		restartEqual(state.App.Restart, plan.App.Restart) &&
		len(state.Drift.Elements()) == 0
}

func restartEqual(a, b *restartModel) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Mode.Equal(b.Mode) && a.DelaySeconds.Equal(b.DelaySeconds)
}

// planned is a checksum the plan computed, "" when it could not.
func planned(v types.String) string {
	if v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

func syncObject(s apply.SyncStats) types.Object {
	return types.ObjectValueMust(lastSyncAttrTypes, map[string]attr.Value{
		"files_sent":      types.Int64Value(int64(s.FilesSent)),
		"bytes_sent":      types.Int64Value(s.BytesSent),
		"files_unchanged": types.Int64Value(int64(s.FilesUnchanged)),
		"files_removed":   types.Int64Value(int64(s.FilesRemoved)),
		"dirs_removed":    types.Int64Value(int64(s.DirsRemoved)),
	})
}

// observe puts what the host holds into the computed attributes and lists
// the differences from what the last apply left (nginx.Observe decides).
func (m *webServerModel) observe(ctx context.Context, o nginx.Observed) {
	c := &conv{ctx: ctx}
	want := nginx.Expected{
		Site:               m.toSite(c),
		DisableDefaultSite: m.DisableDefaultSite.ValueBool(),
		SiteSHA256:         m.SiteChecksum.ValueString(),
		ArtifactSHA256:     m.ArtifactChecksum.ValueString(),
		Init:               apply.Init(m.InitSystem.ValueString()),
	}
	if app := m.toApp(c, nil); !c.unknown {
		want.App = &app
	}
	if !m.SourceDir.IsNull() {
		want.SourceDir = validators.ExpandHome(m.SourceDir.ValueString())
	}
	st := nginx.Observe(want, o)
	m.NginxVersion = types.StringValue(st.NginxVersion)
	if st.Init != "" {
		m.InitSystem = types.StringValue(string(st.Init))
	}
	m.SiteConfig = types.StringValue(string(st.SiteConfig))
	m.SiteChecksum = types.StringValue(st.SiteSHA256)
	m.ArtifactChecksum = types.StringValue(st.ArtifactSHA256)
	m.AppState = types.StringValue(st.AppState)
	m.AppPID = types.Int64Value(int64(st.AppPID))
	if !m.SourceDir.IsNull() {
		m.StaticChecksum = types.StringValue(st.StaticSHA256)
	}
	vals := make([]attr.Value, len(st.Drift))
	for i, d := range st.Drift {
		vals[i] = types.StringValue(d)
	}
	m.Drift = types.ListValueMust(types.StringType, vals)
	if m.LastSync.IsUnknown() {
		m.LastSync = types.ObjectNull(lastSyncAttrTypes)
	}
}

// webServerID is the id of a site: HOST/NAME, as the import-ID grammar
// (import_id.go) writes it.
func webServerID(host, name string) string { return host + "/" + name }
