// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

// legacyRecordPath is meta.json as the provider wrote it with the legacy
// record (Meta.Model in format "tfstate-msgpack-v1", the msgpack state
// object) for legacyModel; written by that encoder, never to be rewritten.
var legacyRecordPath = filepath.Join("testdata", "web_meta_v1_msgpack.json")

func strList(s ...string) types.List {
	vals := make([]attr.Value, len(s))
	for i, v := range s {
		vals[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, vals)
}

func strMap(m map[string]string) types.Map {
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}

const legacyCertPEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

// legacyModel is a configuration that uses every part of the schema (tls,
// gzip, timeouts, security headers with HSTS, static locations, an app
// with environment and restart policy), as a plan holds it: secrets and
// computed values set, which the record leaves out.
func legacyModel() webServerModel {
	staticType := types.ObjectType{AttrTypes: map[string]attr.Type{
		"url_prefix": types.StringType, "expires": types.StringType, "cache_control": types.StringType,
	}}
	return webServerModel{
		SSH:                hostConnection("10.0.0.21"),
		ID:                 types.StringValue("shop@10.0.0.21"),
		Name:               types.StringValue("shop"),
		Install:            types.BoolValue(true),
		ServerNames:        strList("shop.example.com", "www.shop.example.com"),
		ListenPort:         types.Int64Value(8081),
		ListenIPv6:         types.BoolValue(true),
		DefaultServer:      types.BoolValue(true),
		DisableDefaultSite: types.BoolValue(true),
		TLS: &tlsModel{
			CertificatePEM:         types.StringValue(legacyCertPEM),
			PrivateKeyPEM:          types.StringValue("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"),
			PrivateKeyPEMWO:        types.StringNull(),
			PrivateKeyPEMWOVersion: types.Int64Null(),
			Port:                   types.Int64Value(8443),
			HTTP2:                  types.BoolValue(true),
			RedirectHTTP:           types.BoolValue(true),
		},
		AccessLog:         types.StringValue("off"),
		ErrorLog:          types.StringValue("/var/log/nginx/shop.err"),
		Gzip:              &gzipModel{Enabled: types.BoolValue(true), Types: strList("application/json", "text/css")},
		ClientMaxBodySize: types.StringValue("10m"),
		Timeouts: &timeoutsModel{
			ClientBody: types.StringValue("30s"), ClientHeader: types.StringNull(), Keepalive: types.StringValue("65s"),
			ProxyConnect: types.StringValue("5s"), ProxyRead: types.StringValue("2m"), ProxySend: types.StringNull(),
		},
		SecurityHeaders: &secHeaderModel{
			ContentTypeOptions:    types.BoolValue(true),
			FrameOptions:          types.StringValue("DENY"),
			ReferrerPolicy:        types.StringValue("strict-origin-when-cross-origin"),
			ContentSecurityPolicy: types.StringValue("default-src 'self'"),
			HSTS:                  &hstsModel{MaxAge: types.Int64Value(63072000), IncludeSubdomains: types.BoolValue(true), Preload: types.BoolValue(false)},
		},
		ResponseHeaders:   strMap(map[string]string{"X-Served-By": "foobar", "X-Team": "web"}),
		UpstreamKeepalive: types.Int64Value(32),
		DocumentRoot:      types.StringValue("/srv/www/shop"),
		SourceDir:         types.StringValue("/home/op/shop/public"),
		StaticLocations: types.ListValueMust(staticType, []attr.Value{
			types.ObjectValueMust(staticType.AttrTypes, map[string]attr.Value{
				"url_prefix": types.StringValue("/static/"), "expires": types.StringValue("7d"), "cache_control": types.StringNull(),
			}),
			types.ObjectValueMust(staticType.AttrTypes, map[string]attr.Value{
				"url_prefix": types.StringValue("/assets/"), "expires": types.StringNull(), "cache_control": types.StringValue("public, max-age=86400"),
			}),
		}),
		App: &appModel{
			ArtifactSource:             types.StringValue("/home/op/shop/build/shop"),
			ArtifactPath:               types.StringValue("/opt/foobar/shop/bin/shop"),
			Command:                    strList("/opt/foobar/shop/bin/shop", "-listen", "127.0.0.1:8080"),
			Port:                       types.Int64Value(8080),
			Environment:                strMap(map[string]string{"APP_ENV": "production", "LOG_LEVEL": "info"}),
			SecretEnvironment:          strMap(map[string]string{"TOKEN": "s3cr3t"}),
			SecretEnvironmentWO:        types.MapNull(types.StringType),
			SecretEnvironmentWOVersion: types.Int64Value(2),
			User:                       types.StringValue("shop"),
			Group:                      types.StringValue("www-data"),
			WorkingDir:                 types.StringValue("/opt/foobar/shop"),
			HealthCheckPath:            types.StringValue("/healthz"),
			HealthCheckTimeout:         types.StringValue("90s"),
			Restart:                    &restartModel{Mode: types.StringValue("always"), DelaySeconds: types.Int64Value(3)},
			ReloadSignal:               types.StringValue("HUP"),
		},
		SiteConfig:       types.StringValue("server {}\n"),
		SiteChecksum:     types.StringValue("abc"),
		ArtifactChecksum: types.StringValue("def"),
		StaticChecksum:   types.StringValue("123"),
		NginxVersion:     types.StringValue("1.22.1"),
		InitSystem:       types.StringValue("systemd"),
		AppState:         types.StringValue("active"),
		AppPID:           types.Int64Value(4242),
		LastSync:         types.ObjectNull(lastSyncAttrTypes),
		Drift:            strList(),
	}
}

// legacyImported is what import takes from the legacy record of
// legacyModel: the configuration without secrets, the SSH settings or the
// computed values.
func legacyImported() webServerModel { return imported(legacyModel()) }

// imported is what import takes from the record of m.
func imported(m webServerModel) webServerModel {
	m.SSH, m.ID, m.Name = connectionModel{}, types.String{}, types.String{}
	if m.TLS != nil {
		t := *m.TLS
		t.PrivateKeyPEM, t.PrivateKeyPEMWO = types.StringNull(), types.StringNull()
		m.TLS = &t
	}
	if m.App != nil {
		a := *m.App
		a.SecretEnvironment, a.SecretEnvironmentWO = types.MapNull(types.StringType), types.MapNull(types.StringType)
		m.App = &a
	}
	for _, v := range []*types.String{&m.SiteConfig, &m.SiteChecksum, &m.ArtifactChecksum, &m.StaticChecksum, &m.NginxVersion, &m.InitSystem, &m.AppState} {
		*v = types.StringNull()
	}
	m.AppPID = types.Int64Null()
	m.LastSync = types.ObjectNull(lastSyncAttrTypes)
	m.Drift = types.ListNull(types.StringType)
	return m
}

func legacyMetaModel(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(legacyRecordPath)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := nginx.ParseMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	return meta.Model
}

// The record of a site deployed before the typed record still imports.
func TestWebRecordLegacyImports(t *testing.T) {
	t.Parallel()
	got, err := decodeRecord(legacyMetaModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(legacyImported(), got, modelCmp); diff != "" {
		t.Errorf("legacy record (-want +got):\n%s", diff)
	}
}

// The legacy decoder reads with the object type frozen when the legacy
// record was last written, not the live schema's: with the live type plus
// one attribute (what any schema change does) the msgpack of the golden
// record no longer decodes, but the record does.
func TestWebRecordLegacyIgnoresLiveSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	live := webServerSchema().Type().TerraformType(ctx).(tftypes.Object)
	grown := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"added_later": tftypes.String}}
	for k, v := range live.AttributeTypes {
		grown.AttributeTypes[k] = v
	}
	var hm struct{ Value string }
	if err := json.Unmarshal(legacyMetaModel(t), &hm); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(hm.Value)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&tfprotov6.DynamicValue{MsgPack: b}).Unmarshal(grown); err == nil {
		t.Fatal("the legacy msgpack decodes with a grown object type: this test no longer shows the hazard")
	}
	frozen, err := tftypes.ParseJSONType([]byte(legacyRecordType)) //nolint:staticcheck // as the decoder does
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := frozen.(tftypes.Object).AttributeTypes["added_later"]; ok {
		t.Fatal("the frozen type has the added attribute")
	}
	if _, err := decodeLegacyRecord(legacyRecordFormat, legacyMetaModel(t)); err != nil {
		t.Errorf("decodeLegacyRecord: %v", err)
	}
}

func TestWebRecordRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	minimal := func() webServerModel {
		m := legacyModel()
		m.TLS, m.Gzip, m.Timeouts, m.SecurityHeaders = nil, nil, nil, nil
		m.AccessLog, m.ErrorLog, m.ClientMaxBodySize, m.SourceDir = types.StringNull(), types.StringNull(), types.StringNull(), types.StringNull()
		m.ResponseHeaders = types.MapNull(types.StringType)
		m.StaticLocations = types.ListNull(types.ObjectType{AttrTypes: staticLocationAttrTypes})
		a := *m.App
		a.Environment, a.SecretEnvironment = types.MapNull(types.StringType), types.MapNull(types.StringType)
		a.SecretEnvironmentWOVersion, a.Restart, a.ReloadSignal = types.Int64Null(), nil, types.StringNull()
		m.App = &a
		return m
	}
	// Empty and zero values that must not come back as unset.
	empty := func() webServerModel {
		m := legacyModel()
		m.Gzip = &gzipModel{Enabled: types.BoolValue(false), Types: strList()}
		m.Timeouts = &timeoutsModel{}
		m.ResponseHeaders = strMap(map[string]string{})
		m.StaticLocations = types.ListValueMust(types.ObjectType{AttrTypes: staticLocationAttrTypes}, []attr.Value{})
		m.TLS.PrivateKeyPEM, m.TLS.PrivateKeyPEMWO, m.TLS.PrivateKeyPEMWOVersion = types.StringNull(), types.StringValue("wo-key"), types.Int64Value(0)
		a := *m.App
		a.Environment, a.SecretEnvironmentWO, a.SecretEnvironmentWOVersion = strMap(map[string]string{}), strMap(map[string]string{"K": "wo-secret"}), types.Int64Value(0)
		m.App = &a
		m.SecurityHeaders.HSTS = nil
		return m
	}
	for name, m := range map[string]webServerModel{"full": legacyModel(), "minimal": minimal(), "empty values": empty()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := m.encodeRecord(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"PRIVATE KEY", "s3cr3t", "wo-key", "wo-secret", "10.0.0.21"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the record holds %q:\n%s", secret, b)
				}
			}
			if b2, _ := m.encodeRecord(ctx); string(b2) != string(b) {
				t.Error("the record's encoding is not deterministic")
			}
			if v, _, err := nginx.RecordVersionOf(b); err != nil || v != nginx.RecordVersion {
				t.Errorf("version %d, %v; want %d", v, err, nginx.RecordVersion)
			}
			got, err := decodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(imported(m), got, modelCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebRecordRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, err string }{
		{"", "no record"},
		{"{", "malformed record"},
		{`{}`, "neither a version nor a format"},
		{`{"version":2,"install":true}`, "the record has version 2, newer than this provider reads (1)"},
		{`{"format":"tfstate-msgpack-v2","value":""}`, `unknown model format "tfstate-msgpack-v2"`},
		{`{"format":"tfstate-msgpack-v1","value":"3gAA"}`, "written by another version of the provider?"},
		{`{"version":1,"listen_port":"80"}`, "malformed record"},
		{`{"version":1,"added_later":true}`, "unknown field"},
	} {
		_, err := decodeRecord([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("decodeRecord(%q) = %v, want an error with %q", c.in, err, c.err)
		}
	}
}

// What the docs of gzip and security_headers promise: unset, nothing is
// compressed and no header is sent; set, even empty, compression and
// nosniff are on, and the rendered site says so.
func TestWebServerBlocksOnOnceSet(t *testing.T) {
	render := func(m webServerModel) string {
		t.Helper()
		c := &conv{ctx: context.Background()}
		m.Name, m.ServerNames = types.StringValue("docs"), strList("docs.example")
		s := m.toSite(c)
		if c.diags.HasError() {
			t.Fatal(c.diags)
		}
		s.DocumentRoot, s.AppPort = "/srv/www/docs", 8081
		out, err := s.Render(nginx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	unset := render(webServerModel{})
	set := render(webServerModel{Gzip: &gzipModel{Enabled: types.BoolNull(), Types: types.ListNull(types.StringType)},
		SecurityHeaders: &secHeaderModel{ContentTypeOptions: types.BoolNull()}})
	for _, d := range []string{"gzip on;", `add_header X-Content-Type-Options "nosniff" always;`} {
		if strings.Contains(unset, d) {
			t.Errorf("blocks unset, yet the site has %q", d)
		}
		if !strings.Contains(set, d) {
			t.Errorf("blocks set to {}, yet the site lacks %q:\n%s", d, set)
		}
	}
}

// What the docs of app.restart promise: unset, the application is
// restarted on failure after 1 second; set, its own values.
func TestWebServerRestartDefault(t *testing.T) {
	unit := func(r *restartModel) string {
		t.Helper()
		c := &conv{ctx: context.Background()}
		m := webServerModel{Name: types.StringValue("docs"), App: &appModel{
			User: types.StringValue("docs"), ArtifactSource: types.StringValue("/tmp/app"),
			Command: strList("/opt/foobar/docs/bin/app"), Port: types.Int64Value(8081), Restart: r,
		}}
		a := m.toApp(c, nil)
		if c.diags.HasError() {
			t.Fatal(c.diags)
		}
		out, err := a.SystemdUnit(nginx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for _, c := range []struct {
		name string
		r    *restartModel
		want []string
	}{
		{"unset", nil, []string{"Restart=on-failure\n", "RestartSec=1\n"}},
		{"set, values unset", &restartModel{Mode: types.StringNull(), DelaySeconds: types.Int64Null()}, []string{"Restart=on-failure\n", "RestartSec=1\n"}},
		{"set", &restartModel{Mode: types.StringValue("always"), DelaySeconds: types.Int64Value(5)}, []string{"Restart=always\n", "RestartSec=5\n"}},
	} {
		got := unit(c.r)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the unit lacks %q:\n%s", c.name, w, got)
			}
		}
	}
}
