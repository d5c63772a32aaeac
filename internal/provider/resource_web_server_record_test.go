// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/foobar/terraform-provider-foobar/internal/nginx"
)

var updateWebRecord = flag.Bool("update-web-record", false, "rewrite testdata/web_meta_v1_msgpack.json from the current encoder")

// legacyRecordPath is meta.json as the provider up to the msgpack record
// (Meta.Model in format "tfstate-msgpack-v1") wrote it for legacyModel.
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
		SSH:                nullConnection("10.0.0.21"),
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

// legacyMeta is the meta.json that Deploy wrote around a model record.
func legacyMeta(model []byte) nginx.Meta {
	return nginx.Meta{
		Name: "shop", DocumentRoot: "/srv/www/shop", DocumentRootCreated: true,
		WorkingDir: "/opt/foobar/shop", WorkingDirCreated: true, ArtifactPath: "/opt/foobar/shop/bin/shop",
		DefaultSiteDisabled: true, Init: "systemd", Model: model,
	}
}

func webServerState() tfsdk.State {
	s := webServerSchema()
	return tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(context.Background()), nil)}
}

// TestLegacyWebRecordGolden writes (with -update-web-record) the golden
// meta.json in the format of the msgpack model record, with the encoder of
// that time, and checks that this encoder still reads it.
func TestLegacyWebRecordGolden(t *testing.T) {
	ctx := context.Background()
	if *updateWebRecord {
		model, err := encodeModel(ctx, webServerState(), legacyModel())
		if err != nil {
			t.Fatal(err)
		}
		b, err := legacyMeta(model).Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(legacyRecordPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(legacyRecordPath)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := nginx.ParseMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeModel(ctx, webServerState(), meta.Model)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(legacyImported(), got); diff != "" {
		t.Errorf("legacy record (-want +got):\n%s", diff)
	}
}

// legacyImported is what import takes from the legacy record of
// legacyModel: the configuration without secrets, the SSH settings or the
// computed values.
func legacyImported() webServerModel {
	m := legacyModel()
	m.TLS.PrivateKeyPEM = types.StringNull()
	m.App.SecretEnvironment = types.MapNull(types.StringType)
	for _, v := range []*types.String{&m.SiteConfig, &m.SiteChecksum, &m.ArtifactChecksum, &m.StaticChecksum, &m.NginxVersion, &m.InitSystem, &m.AppState} {
		*v = types.StringNull()
	}
	m.AppPID = types.Int64Null()
	m.Drift = types.ListNull(types.StringType)
	return m
}
