// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

// The deployment record of a web server (nginx.Meta.Model) is an
// nginx.Record: the configuration without secrets, SSH settings or
// computed values, as plain JSON with a version. It does not depend on the
// schema: adding an attribute leaves it unset on import of an older record.

var staticLocationAttrTypes = map[string]attr.Type{
	"url_prefix": types.StringType, "expires": types.StringType, "cache_control": types.StringType,
}

// encodeRecord is the record of m (a plan: every value known).
func (m *webServerModel) encodeRecord(ctx context.Context) ([]byte, error) {
	r, d := m.toRecord(ctx)
	if d.HasError() {
		return nil, fmt.Errorf("%v", d)
	}
	return r.Encode()
}

// toRecord is the record of m: its configuration without secrets.
func (m *webServerModel) toRecord(ctx context.Context) (nginx.Record, diag.Diagnostics) {
	var diags diag.Diagnostics
	r := nginx.Record{
		Install:            m.Install.ValueBool(),
		ServerNames:        recStrs(ctx, m.ServerNames, &diags),
		ListenPort:         m.ListenPort.ValueInt64(),
		ListenIPv6:         m.ListenIPv6.ValueBool(),
		DefaultServer:      m.DefaultServer.ValueBool(),
		DisableDefaultSite: m.DisableDefaultSite.ValueBool(),
		AccessLog:          m.AccessLog.ValueStringPointer(),
		ErrorLog:           m.ErrorLog.ValueStringPointer(),
		ClientMaxBodySize:  m.ClientMaxBodySize.ValueStringPointer(),
		ResponseHeaders:    recStrMap(ctx, m.ResponseHeaders, &diags),
		UpstreamKeepalive:  m.UpstreamKeepalive.ValueInt64(),
		DocumentRoot:       m.DocumentRoot.ValueString(),
		SourceDir:          m.SourceDir.ValueStringPointer(),
	}
	if t := m.TLS; t != nil {
		r.TLS = &nginx.RecordTLS{
			CertificatePEM: t.CertificatePEM.ValueString(), PrivateKeyPEMWOVersion: t.PrivateKeyPEMWOVersion.ValueInt64Pointer(),
			Port: t.Port.ValueInt64(), HTTP2: t.HTTP2.ValueBool(), RedirectHTTP: t.RedirectHTTP.ValueBool(),
		}
	}
	if g := m.Gzip; g != nil {
		r.Gzip = &nginx.RecordGzip{Enabled: g.Enabled.ValueBool(), Types: recStrs(ctx, g.Types, &diags)}
	}
	if t := m.Timeouts; t != nil {
		r.Timeouts = &nginx.RecordTimeouts{
			ClientBody: t.ClientBody.ValueStringPointer(), ClientHeader: t.ClientHeader.ValueStringPointer(),
			Keepalive: t.Keepalive.ValueStringPointer(), ProxyConnect: t.ProxyConnect.ValueStringPointer(),
			ProxyRead: t.ProxyRead.ValueStringPointer(), ProxySend: t.ProxySend.ValueStringPointer(),
		}
	}
	if h := m.SecurityHeaders; h != nil {
		r.SecurityHeaders = &nginx.RecordSecurityHeaders{
			ContentTypeOptions: h.ContentTypeOptions.ValueBool(), FrameOptions: h.FrameOptions.ValueStringPointer(),
			ReferrerPolicy: h.ReferrerPolicy.ValueStringPointer(), ContentSecurityPolicy: h.ContentSecurityPolicy.ValueStringPointer(),
		}
		if x := h.HSTS; x != nil {
			r.SecurityHeaders.HSTS = &nginx.RecordHSTS{MaxAge: x.MaxAge.ValueInt64(), IncludeSubdomains: x.IncludeSubdomains.ValueBool(), Preload: x.Preload.ValueBool()}
		}
	}
	if !m.StaticLocations.IsNull() {
		var locs []staticLocationModel
		diags.Append(m.StaticLocations.ElementsAs(ctx, &locs, false)...)
		r.StaticLocations = make([]nginx.RecordStaticLocation, 0, len(locs))
		for _, l := range locs {
			r.StaticLocations = append(r.StaticLocations, nginx.RecordStaticLocation{
				URLPrefix: l.URLPrefix.ValueString(), Expires: l.Expires.ValueStringPointer(), CacheControl: l.CacheControl.ValueStringPointer(),
			})
		}
	}
	if d := m.Drain; d != nil {
		r.Drain = &nginx.RecordDrain{HealthCheckInterval: d.HealthCheckInterval.ValueString(), Fall: d.Fall.ValueInt64(),
			Rise: d.Rise.ValueInt64(), InFlightTimeout: d.InFlightTimeout.ValueString()}
	}
	if a := m.App; a != nil {
		r.App = &nginx.RecordApp{
			ArtifactSource: a.ArtifactSource.ValueString(), ArtifactPath: a.ArtifactPath.ValueString(),
			Command: recStrs(ctx, a.Command, &diags), Port: a.Port.ValueInt64(), Environment: recStrMap(ctx, a.Environment, &diags),
			SecretEnvironmentWOVersion: a.SecretEnvironmentWOVersion.ValueInt64Pointer(),
			User:                       a.User.ValueString(), Group: a.Group.ValueString(), WorkingDir: a.WorkingDir.ValueString(),
			HealthCheckPath: a.HealthCheckPath.ValueString(), HealthCheckTimeout: a.HealthCheckTimeout.ValueString(),
			ReloadSignal: a.ReloadSignal.ValueStringPointer(),
		}
		if rs := a.Restart; rs != nil {
			r.App.Restart = &nginx.RecordRestart{Mode: rs.Mode.ValueString(), DelaySeconds: rs.DelaySeconds.ValueInt64()}
		}
	}
	return r, diags
}

func recStrs(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	out := []string{}
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

func recStrMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// fromRecord is the model an import takes from a record: its configuration,
// secrets and computed values null (Read fills the computed ones in, the
// caller the SSH settings, ID and name).
func fromRecord(r nginx.Record) webServerModel {
	m := webServerModel{
		Install:            types.BoolValue(r.Install),
		ServerNames:        listOf(r.ServerNames),
		ListenPort:         types.Int64Value(r.ListenPort),
		ListenIPv6:         types.BoolValue(r.ListenIPv6),
		DefaultServer:      types.BoolValue(r.DefaultServer),
		DisableDefaultSite: types.BoolValue(r.DisableDefaultSite),
		AccessLog:          types.StringPointerValue(r.AccessLog),
		ErrorLog:           types.StringPointerValue(r.ErrorLog),
		ClientMaxBodySize:  types.StringPointerValue(r.ClientMaxBodySize),
		ResponseHeaders:    mapOf(r.ResponseHeaders),
		UpstreamKeepalive:  types.Int64Value(r.UpstreamKeepalive),
		DocumentRoot:       types.StringValue(r.DocumentRoot),
		SourceDir:          types.StringPointerValue(r.SourceDir),
		StaticLocations:    types.ListNull(types.ObjectType{AttrTypes: staticLocationAttrTypes}),
		SiteConfig:         types.StringNull(),
		SiteChecksum:       types.StringNull(),
		ArtifactChecksum:   types.StringNull(),
		StaticChecksum:     types.StringNull(),
		NginxVersion:       types.StringNull(),
		InitSystem:         types.StringNull(),
		AppState:           types.StringNull(),
		AppPID:             types.Int64Null(),
		LastSync:           types.ObjectNull(lastSyncAttrTypes),
		Drift:              types.ListNull(types.StringType),
	}
	if t := r.TLS; t != nil {
		m.TLS = &tlsModel{
			CertificatePEM: types.StringValue(t.CertificatePEM), PrivateKeyPEM: types.StringNull(), PrivateKeyPEMWO: types.StringNull(),
			PrivateKeyPEMWOVersion: types.Int64PointerValue(t.PrivateKeyPEMWOVersion),
			Port:                   types.Int64Value(t.Port), HTTP2: types.BoolValue(t.HTTP2), RedirectHTTP: types.BoolValue(t.RedirectHTTP),
		}
	}
	if d := r.Drain; d != nil {
		m.Drain = &drainModel{HealthCheckInterval: types.StringValue(d.HealthCheckInterval), Fall: types.Int64Value(d.Fall),
			Rise: types.Int64Value(d.Rise), InFlightTimeout: types.StringValue(d.InFlightTimeout)}
	}
	if g := r.Gzip; g != nil {
		m.Gzip = &gzipModel{Enabled: types.BoolValue(g.Enabled), Types: listOf(g.Types)}
	}
	if t := r.Timeouts; t != nil {
		m.Timeouts = &timeoutsModel{
			ClientBody: types.StringPointerValue(t.ClientBody), ClientHeader: types.StringPointerValue(t.ClientHeader),
			Keepalive: types.StringPointerValue(t.Keepalive), ProxyConnect: types.StringPointerValue(t.ProxyConnect),
			ProxyRead: types.StringPointerValue(t.ProxyRead), ProxySend: types.StringPointerValue(t.ProxySend),
		}
	}
	if h := r.SecurityHeaders; h != nil {
		m.SecurityHeaders = &secHeaderModel{
			ContentTypeOptions: types.BoolValue(h.ContentTypeOptions), FrameOptions: types.StringPointerValue(h.FrameOptions),
			ReferrerPolicy: types.StringPointerValue(h.ReferrerPolicy), ContentSecurityPolicy: types.StringPointerValue(h.ContentSecurityPolicy),
		}
		if x := h.HSTS; x != nil {
			m.SecurityHeaders.HSTS = &hstsModel{MaxAge: types.Int64Value(x.MaxAge), IncludeSubdomains: types.BoolValue(x.IncludeSubdomains), Preload: types.BoolValue(x.Preload)}
		}
	}
	if r.StaticLocations != nil {
		locs := make([]attr.Value, len(r.StaticLocations))
		for i, l := range r.StaticLocations {
			locs[i] = types.ObjectValueMust(staticLocationAttrTypes, map[string]attr.Value{
				"url_prefix": types.StringValue(l.URLPrefix), "expires": types.StringPointerValue(l.Expires),
				"cache_control": types.StringPointerValue(l.CacheControl),
			})
		}
		m.StaticLocations = types.ListValueMust(types.ObjectType{AttrTypes: staticLocationAttrTypes}, locs)
	}
	if a := r.App; a != nil {
		m.App = &appModel{
			ArtifactSource: types.StringValue(a.ArtifactSource), ArtifactPath: types.StringValue(a.ArtifactPath),
			Command: listOf(a.Command), Port: types.Int64Value(a.Port), Environment: mapOf(a.Environment),
			SecretEnvironment: types.MapNull(types.StringType), SecretEnvironmentWO: types.MapNull(types.StringType),
			SecretEnvironmentWOVersion: types.Int64PointerValue(a.SecretEnvironmentWOVersion),
			User:                       types.StringValue(a.User), Group: types.StringValue(a.Group), WorkingDir: types.StringValue(a.WorkingDir),
			HealthCheckPath: types.StringValue(a.HealthCheckPath), HealthCheckTimeout: types.StringValue(a.HealthCheckTimeout),
			ReloadSignal: types.StringPointerValue(a.ReloadSignal),
		}
		if rs := a.Restart; rs != nil {
			m.App.Restart = &restartModel{Mode: types.StringValue(rs.Mode), DelaySeconds: types.Int64Value(rs.DelaySeconds)}
		}
	}
	return m
}

func listOf(s []string) types.List {
	if s == nil {
		return types.ListNull(types.StringType)
	}
	vals := make([]attr.Value, len(s))
	for i, v := range s {
		vals[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, vals)
}

func mapOf(m map[string]string) types.Map {
	if m == nil {
		return types.MapNull(types.StringType)
	}
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}

// decodeRecord reads a deployment record: an nginx.Record, or a legacy one.
func decodeRecord(raw []byte) (webServerModel, error) {
	v, format, err := nginx.RecordVersionOf(raw)
	if err != nil {
		return webServerModel{}, err
	}
	var r *nginx.Record
	if v == 0 {
		r, err = decodeLegacyRecord(format, raw)
	} else {
		r, err = nginx.DecodeRecord(raw)
	}
	if err != nil {
		return webServerModel{}, err
	}
	return fromRecord(*r), nil
}

// ---- the legacy record (version 0) ------------------------------------------

// legacyRecordFormat is the record written before nginx.Record: the whole
// state object as Terraform's msgpack (secrets, SSH settings other than the
// host, and computed values null), base64 in {"format": ..., "value": ...}.
const legacyRecordFormat = "tfstate-msgpack-v1"

// legacyRecordType is the object type of foobar_web_server when the legacy
// record was last written, frozen: msgpack decoding of an object needs its
// exact attributes, so this must never follow the live schema.
const legacyRecordType = `["object",{"access_log":"string","app":["object",{"artifact_path":"string","artifact_source":"string",` +
	`"command":["list","string"],"environment":["map","string"],"group":"string","health_check_path":"string",` +
	`"health_check_timeout":"string","port":"number","reload_signal":"string","restart":["object",` +
	`{"delay_seconds":"number","mode":"string"}],"secret_environment":["map","string"],` +
	`"secret_environment_wo":["map","string"],"secret_environment_wo_version":"number","user":"string",` +
	`"working_dir":"string"}],"app_pid":"number","app_state":"string","artifact_checksum":"string",` +
	`"client_max_body_size":"string","default_server":"bool","disable_default_site":"bool","document_root":"string",` +
	`"drift":["list","string"],"error_log":"string","gzip":["object",{"enabled":"bool","types":["list","string"]}],` +
	`"id":"string","init_system":"string","install":"bool","last_sync":["object",{"bytes_sent":"number",` +
	`"dirs_removed":"number","files_removed":"number","files_sent":"number","files_unchanged":"number"}],` +
	`"listen_ipv6":"bool","listen_port":"number","name":"string","nginx_version":"string","response_headers":["map",` +
	`"string"],"security_headers":["object",{"content_security_policy":"string","content_type_options":"bool",` +
	`"frame_options":"string","hsts":["object",{"include_subdomains":"bool","max_age":"number","preload":"bool"}],` +
	`"referrer_policy":"string"}],"server_names":["list","string"],"site_checksum":"string","site_config":"string",` +
	`"source_dir":"string","ssh":["object",{"agent":"bool","bastion":["object",{"agent":"bool","host":"string",` +
	`"host_key":"string","known_hosts_file":"string","port":"number","private_key":"string",` +
	`"private_key_file":"string","private_key_passphrase":"string","user":"string"}],"connect_timeout":"string",` +
	`"host":"string","host_key":"string","known_hosts_file":"string","port":"number","private_key":"string",` +
	`"private_key_file":"string","private_key_passphrase":"string","sudo":"bool","sudo_password":"string",` +
	`"user":"string"}],"static_checksum":"string","static_locations":["list",["object",{"cache_control":"string",` +
	`"expires":"string","url_prefix":"string"}]],"timeouts":["object",{"client_body":"string",` +
	`"client_header":"string","keepalive":"string","proxy_connect":"string","proxy_read":"string",` +
	`"proxy_send":"string"}],"tls":["object",{"certificate_pem":"string","http2":"bool","port":"number",` +
	`"private_key_pem":"string","private_key_pem_wo":"string","private_key_pem_wo_version":"number",` +
	`"redirect_http":"bool"}],"upstream_keepalive":"number"}]`

// decodeLegacyRecord reads a legacy record into an nginx.Record.
func decodeLegacyRecord(format string, raw []byte) (*nginx.Record, error) {
	if format != legacyRecordFormat {
		return nil, fmt.Errorf("unknown model format %q", format)
	}
	var hm struct {
		Format string `json:"format"`
		Value  string `json:"value"`
	}
	if err := json.Unmarshal(raw, &hm); err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(hm.Value)
	if err != nil {
		return nil, err
	}
	typ, err := tftypes.ParseJSONType([]byte(legacyRecordType)) //nolint:staticcheck // the type is ours, frozen as JSON
	if err != nil {
		return nil, err
	}
	v, err := (&tfprotov6.DynamicValue{MsgPack: b}).Unmarshal(typ)
	if err != nil {
		return nil, fmt.Errorf("written by another version of the provider? %w", err)
	}
	lr := &legacyReader{}
	r := lr.record(v)
	if lr.err != nil {
		return nil, fmt.Errorf("legacy record: %w", lr.err)
	}
	return r, nil
}

// legacyReader takes values out of the legacy object, keeping the first
// error.
type legacyReader struct{ err error }

func (lr *legacyReader) fail(err error) {
	if lr.err == nil && err != nil {
		lr.err = err
	}
}

// obj is the attributes of an object, nil when it is null.
func (lr *legacyReader) obj(v tftypes.Value) map[string]tftypes.Value {
	if v.IsNull() {
		return nil
	}
	var m map[string]tftypes.Value
	lr.fail(v.As(&m))
	return m
}

func (lr *legacyReader) strPtr(v tftypes.Value) *string {
	var s *string
	lr.fail(v.As(&s))
	return s
}

func (lr *legacyReader) str(v tftypes.Value) string {
	if s := lr.strPtr(v); s != nil {
		return *s
	}
	return ""
}

func (lr *legacyReader) intPtr(v tftypes.Value) *int64 {
	var f *big.Float
	lr.fail(v.As(&f))
	if f == nil {
		return nil
	}
	i, _ := f.Int64()
	return &i
}

func (lr *legacyReader) int(v tftypes.Value) int64 {
	if i := lr.intPtr(v); i != nil {
		return *i
	}
	return 0
}

func (lr *legacyReader) boolean(v tftypes.Value) bool {
	var b *bool
	lr.fail(v.As(&b))
	return b != nil && *b
}

func (lr *legacyReader) strs(v tftypes.Value) []string {
	if v.IsNull() {
		return nil
	}
	var l []tftypes.Value
	lr.fail(v.As(&l))
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = lr.str(e)
	}
	return out
}

func (lr *legacyReader) strMap(v tftypes.Value) map[string]string {
	if v.IsNull() {
		return nil
	}
	var m map[string]tftypes.Value
	lr.fail(v.As(&m))
	out := make(map[string]string, len(m))
	for k, e := range m {
		out[k] = lr.str(e)
	}
	return out
}

func (lr *legacyReader) record(v tftypes.Value) *nginx.Record {
	o := lr.obj(v)
	if o == nil {
		lr.fail(fmt.Errorf("null object"))
		return nil
	}
	r := &nginx.Record{
		Install:            lr.boolean(o["install"]),
		ServerNames:        lr.strs(o["server_names"]),
		ListenPort:         lr.int(o["listen_port"]),
		ListenIPv6:         lr.boolean(o["listen_ipv6"]),
		DefaultServer:      lr.boolean(o["default_server"]),
		DisableDefaultSite: lr.boolean(o["disable_default_site"]),
		AccessLog:          lr.strPtr(o["access_log"]),
		ErrorLog:           lr.strPtr(o["error_log"]),
		ClientMaxBodySize:  lr.strPtr(o["client_max_body_size"]),
		ResponseHeaders:    lr.strMap(o["response_headers"]),
		UpstreamKeepalive:  lr.int(o["upstream_keepalive"]),
		DocumentRoot:       lr.str(o["document_root"]),
		SourceDir:          lr.strPtr(o["source_dir"]),
	}
	if t := lr.obj(o["tls"]); t != nil {
		r.TLS = &nginx.RecordTLS{
			CertificatePEM: lr.str(t["certificate_pem"]), PrivateKeyPEMWOVersion: lr.intPtr(t["private_key_pem_wo_version"]),
			Port: lr.int(t["port"]), HTTP2: lr.boolean(t["http2"]), RedirectHTTP: lr.boolean(t["redirect_http"]),
		}
	}
	if g := lr.obj(o["gzip"]); g != nil {
		r.Gzip = &nginx.RecordGzip{Enabled: lr.boolean(g["enabled"]), Types: lr.strs(g["types"])}
	}
	if t := lr.obj(o["timeouts"]); t != nil {
		r.Timeouts = &nginx.RecordTimeouts{
			ClientBody: lr.strPtr(t["client_body"]), ClientHeader: lr.strPtr(t["client_header"]), Keepalive: lr.strPtr(t["keepalive"]),
			ProxyConnect: lr.strPtr(t["proxy_connect"]), ProxyRead: lr.strPtr(t["proxy_read"]), ProxySend: lr.strPtr(t["proxy_send"]),
		}
	}
	if h := lr.obj(o["security_headers"]); h != nil {
		r.SecurityHeaders = &nginx.RecordSecurityHeaders{
			ContentTypeOptions: lr.boolean(h["content_type_options"]), FrameOptions: lr.strPtr(h["frame_options"]),
			ReferrerPolicy: lr.strPtr(h["referrer_policy"]), ContentSecurityPolicy: lr.strPtr(h["content_security_policy"]),
		}
		if x := lr.obj(h["hsts"]); x != nil {
			r.SecurityHeaders.HSTS = &nginx.RecordHSTS{MaxAge: lr.int(x["max_age"]), IncludeSubdomains: lr.boolean(x["include_subdomains"]), Preload: lr.boolean(x["preload"])}
		}
	}
	if sl := o["static_locations"]; !sl.IsNull() {
		var l []tftypes.Value
		lr.fail(sl.As(&l))
		r.StaticLocations = make([]nginx.RecordStaticLocation, 0, len(l))
		for _, e := range l {
			so := lr.obj(e)
			r.StaticLocations = append(r.StaticLocations, nginx.RecordStaticLocation{
				URLPrefix: lr.str(so["url_prefix"]), Expires: lr.strPtr(so["expires"]), CacheControl: lr.strPtr(so["cache_control"]),
			})
		}
	}
	if a := lr.obj(o["app"]); a != nil {
		r.App = &nginx.RecordApp{
			ArtifactSource: lr.str(a["artifact_source"]), ArtifactPath: lr.str(a["artifact_path"]),
			Command: lr.strs(a["command"]), Port: lr.int(a["port"]), Environment: lr.strMap(a["environment"]),
			SecretEnvironmentWOVersion: lr.intPtr(a["secret_environment_wo_version"]),
			User:                       lr.str(a["user"]), Group: lr.str(a["group"]), WorkingDir: lr.str(a["working_dir"]),
			HealthCheckPath: lr.str(a["health_check_path"]), HealthCheckTimeout: lr.str(a["health_check_timeout"]),
			ReloadSignal: lr.strPtr(a["reload_signal"]),
		}
		if rs := lr.obj(a["restart"]); rs != nil {
			r.App.Restart = &nginx.RecordRestart{Mode: lr.str(rs["mode"]), DelaySeconds: lr.int(rs["delay_seconds"])}
		}
	}
	return r
}
