// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	ppath "path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/foobar/terraform-provider-foobar/internal/apply"
	"github.com/foobar/terraform-provider-foobar/internal/fault"
	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

var (
	_ resource.ResourceWithConfigure      = (*webServerResource)(nil)
	_ resource.ResourceWithImportState    = (*webServerResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*webServerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*webServerResource)(nil)
)

// NewWebServerResource is the foobar_web_server resource.
func NewWebServerResource() resource.Resource { return &webServerResource{} }

type webServerResource struct{ data *providerData }

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

func (r *webServerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_web_server"
}

func (r *webServerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *webServerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = webServerSchema()
}


func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
}

// webServerSchema is the schema of foobar_web_server, in a function of its
// own (Schema returns it; the schema has no versions and no state upgrader).
func webServerSchema() schema.Schema {
	pathCheck := validators.StringFunc("an absolute, normalized path of letters, digits and ._/+@,:=-", nginx.ValidatePath)
	durationCheck := validators.StringFunc("an nginx time such as 30s", nginx.ValidateDuration)
	headerValueCheck := validators.StringFunc("an HTTP header value", nginx.ValidateHeaderValue)
	envNameCheck := validators.StringFunc("an environment variable name", nginx.ValidateEnvName)
	return schema.Schema{
		MarkdownDescription: "An Nginx site, its static files and the application server behind it, on one host " +
			"reached over SSH: turns a bare Debian host into a working web node.\n\n" +
			"Nginx serves the `static_locations` from `document_root` (filled from the local `source_dir`, by " +
			"checksum: only changed files are sent, removed files are removed) and proxies everything else to the " +
			"application on `127.0.0.1:app.port` with keep-alive and `X-Forwarded-*` headers. The application runs " +
			"as a systemd unit (or an init script on sysvinit hosts) as `app.user`; its environment lives in a " +
			"root-only file, never in an argv, a log or the plan.\n\n" +
			"Every change goes through the provider's safe-apply engine. Site: candidate swapped in, `nginx -t` on " +
			"the whole configuration, reload (or start), then a check that nginx runs new workers and serves the site " +
			"on its port; otherwise the previous files are put back. Application: a changed artifact, command or " +
			"environment restarts it, and it must pass its health check within `app.health_check_timeout`; " +
			"otherwise the previous artifact and files are put back and restarted, and the error shows the " +
			"application's last log lines.\n\n" +
			"Refresh detects drift in the site file, the static files, the unit, the artifact and the service " +
			"state, and plans a repair (see `drift`). Secret files (the environment file and the TLS key) are " +
			"rewritten by every apply that changes anything, but a change made to them on the host alone is not " +
			"detected: that would need their checksum in the state, which would let anyone holding the state test " +
			"guesses of a secret.",
		Attributes: map[string]schema.Attribute{
			"ssh": connectionSchema(),
			"id": schema.StringAttribute{
				MarkdownDescription: "`<host>/<name>`, the import ID (sites created by earlier versions keep their `<name>@<host>`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the site and of its application: files are named after it " +
					"(`/etc/nginx/sites-available/foobar-<name>.conf`, service `foobar-<name>`, `/etc/foobar/<name>.env`). " +
					"1 to 63 lower-case letters, digits or `-`. Changing it replaces the resource.",
				Required:      true,
				Validators:    []validator.String{validators.StringFunc("a site name", nginx.ValidateSiteName)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"install": schema.BoolAttribute{
				MarkdownDescription: "Install Nginx with `apt-get` (or `dnf`) when it is missing. Default `true`. " +
					"With `false` a host without Nginx is an error. Nginx stays installed when the resource is destroyed. " +
					"The host must use Debian's layout (`nginx.conf` includes `sites-enabled/*`).",
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"server_names": schema.ListAttribute{
				MarkdownDescription: "`server_name` entries, the first being the primary name: host names, `*.example.com`, " +
					"`www.example.*`, or `_` (no name in particular).",
				Required: true, ElementType: types.StringType,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(validators.StringFunc("a server name", nginx.ValidateServerName)),
				},
			},
			"listen_port": schema.Int64Attribute{
				MarkdownDescription: "Plain HTTP port. Default `80`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(defListenPort),
				Validators: []validator.Int64{int64validator.Between(1, 65535)},
			},
			"listen_ipv6": schema.BoolAttribute{
				MarkdownDescription: "Also listen on `[::]`. Default `false`. On a host without IPv6 this fails only at reload (and is rolled back).",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
			},
			"default_server": schema.BoolAttribute{
				MarkdownDescription: "Make this site the `default_server` of its ports (it answers requests for names no " +
					"other site serves). Default `false`. Debian's default site is `default_server` on port 80 too: " +
					"set `disable_default_site` with it.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			},
			"disable_default_site": schema.BoolAttribute{
				MarkdownDescription: "Disable Debian's default site (remove the `sites-enabled/default` link). Default " +
					"`false`. When the resource disabled it, destroying the resource (or setting this back to `false`) " +
					"enables it again.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			},
			"tls": schema.SingleNestedAttribute{
				MarkdownDescription: "HTTPS. The certificate and key are written to `/etc/nginx/foobar/<name>/` " +
					"(the key root-only, mode 0600). Set the key with `private_key_pem_wo` (write-only, Terraform 1.11+, " +
					"never stored in the state) or `private_key_pem` (sensitive, stored in the state).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"certificate_pem": schema.StringAttribute{
						MarkdownDescription: "Server certificate followed by any intermediates, PEM.",
						Required:            true,
						Validators:          []validator.String{validators.StringFunc("PEM certificates", nginx.ValidateCertificatePEM)},
					},
					"private_key_pem": schema.StringAttribute{
						MarkdownDescription: "Private key of the certificate, PEM. Sensitive; stored in the state. Conflicts with `private_key_pem_wo`.",
						Optional:            true, Sensitive: true,
						Validators: []validator.String{
							validators.SecretStringFunc("a PEM private key", nginx.ValidatePrivateKeyPEM),
							stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("private_key_pem_wo")),
						},
					},
					"private_key_pem_wo": schema.StringAttribute{
						MarkdownDescription: "Private key of the certificate, PEM, write-only: never stored in the state or the plan. " +
							"Needs Terraform 1.11+ and `private_key_pem_wo_version`.",
						Optional: true, Sensitive: true, WriteOnly: true,
						Validators: []validator.String{validators.SecretStringFunc("a PEM private key", nginx.ValidatePrivateKeyPEM)},
					},
					"private_key_pem_wo_version": schema.Int64Attribute{
						MarkdownDescription: "Change this number to deploy a new `private_key_pem_wo` (Terraform cannot see a write-only value change).",
						Optional:            true,
					},
					"port": schema.Int64Attribute{
						MarkdownDescription: "HTTPS port. Default `443`.",
						Optional:            true, Computed: true, Default: int64default.StaticInt64(defTLSPort),
						Validators: []validator.Int64{int64validator.Between(1, 65535)},
					},
					"http2": schema.BoolAttribute{
						MarkdownDescription: "Enable HTTP/2 on the HTTPS listener (syntax chosen by the Nginx version). Default `false`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
					},
					"redirect_http": schema.BoolAttribute{
						MarkdownDescription: "Answer plain HTTP with a permanent redirect to HTTPS instead of serving the site. Default `false`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
					},
				},
			},
			"access_log": schema.StringAttribute{
				MarkdownDescription: "Access log path, or `off`. Default `/var/log/nginx/foobar-<name>.access.log`.",
				Optional:            true,
				Validators: []validator.String{validators.StringFunc("an absolute path or \"off\"", func(s string) error {
					if s == "off" {
						return nil
					}
					return nginx.ValidatePath(s)
				})},
			},
			"error_log": schema.StringAttribute{
				MarkdownDescription: "Error log path. Default `/var/log/nginx/foobar-<name>.error.log`.",
				Optional:            true, Validators: []validator.String{pathCheck},
			},
			"gzip": schema.SingleNestedAttribute{
				MarkdownDescription: "Response compression. Unset: off.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"enabled": schema.BoolAttribute{
						MarkdownDescription: "Compress responses. Default `true`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
					},
					"types": schema.ListAttribute{
						MarkdownDescription: "MIME types compressed besides `text/html` (for example `application/json`, `text/css`).",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.List{listvalidator.ValueStringsAre(validators.StringFunc("a MIME type", nginx.ValidateMIMEType))},
					},
				},
			},
			"client_max_body_size": schema.StringAttribute{
				MarkdownDescription: "Largest request body, an Nginx size such as `10m`. Default: Nginx's (`1m`).",
				Optional:            true,
				Validators:          []validator.String{validators.StringFunc("an nginx size such as 10m", nginx.ValidateSize)},
			},
			"timeouts": schema.SingleNestedAttribute{
				MarkdownDescription: "Nginx times such as `30s` or `1m`; unset ones keep Nginx's defaults.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"client_body":   schema.StringAttribute{MarkdownDescription: "`client_body_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"client_header": schema.StringAttribute{MarkdownDescription: "`client_header_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"keepalive":     schema.StringAttribute{MarkdownDescription: "`keepalive_timeout` for clients (default 75s).", Optional: true, Validators: []validator.String{durationCheck}},
					"proxy_connect": schema.StringAttribute{MarkdownDescription: "`proxy_connect_timeout` to the application, at most 75s (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"proxy_read":    schema.StringAttribute{MarkdownDescription: "`proxy_read_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"proxy_send":    schema.StringAttribute{MarkdownDescription: "`proxy_send_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
				},
			},
			"security_headers": schema.SingleNestedAttribute{
				MarkdownDescription: "Protective response headers, added to every response (`always`). Unset: none.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"content_type_options": schema.BoolAttribute{
						MarkdownDescription: "Send `X-Content-Type-Options: nosniff`. Default `true`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
					},
					"frame_options": schema.StringAttribute{
						MarkdownDescription: "`X-Frame-Options`: `DENY` or `SAMEORIGIN`.", Optional: true,
					},
					"referrer_policy": schema.StringAttribute{
						MarkdownDescription: "`Referrer-Policy` token such as `strict-origin-when-cross-origin`.", Optional: true,
					},
					"content_security_policy": schema.StringAttribute{
						MarkdownDescription: "`Content-Security-Policy` value.", Optional: true,
						Validators: []validator.String{headerValueCheck},
					},
					"hsts": schema.SingleNestedAttribute{
						MarkdownDescription: "`Strict-Transport-Security`; needs `tls`.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"max_age": schema.Int64Attribute{
								MarkdownDescription: "`max-age` in seconds. Default `31536000` (one year).",
								Optional:            true, Computed: true, Default: int64default.StaticInt64(defHSTSMaxAge),
							},
							"include_subdomains": schema.BoolAttribute{
								MarkdownDescription: "Add `includeSubDomains`. Default `false`.",
								Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
							},
							"preload": schema.BoolAttribute{
								MarkdownDescription: "Add `preload` (needs `include_subdomains` and a `max_age` of a year). Default `false`.",
								Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
							},
						},
					},
				},
			},
			"response_headers": schema.MapAttribute{
				MarkdownDescription: "Extra response headers by name, added to every response.",
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Map{
					mapvalidator.KeysAre(validators.StringFunc("an HTTP header name", nginx.ValidateHeaderName)),
					mapvalidator.ValueStringsAre(headerValueCheck),
				},
			},
			"upstream_keepalive": schema.Int64Attribute{
				MarkdownDescription: "Idle keep-alive connections Nginx keeps to the application, 1 to 1024. Default `16`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(defUpstreamKeepalive),
			},
			"document_root": schema.StringAttribute{
				MarkdownDescription: "Directory on the host the static files are served from. A document root that " +
					"existed before the resource is left in place (with its content) when the resource is destroyed; one " +
					"the resource created is removed. Changing it leaves the previous one in place.",
				Required:   true,
				Validators: []validator.String{pathCheck},
			},
			"source_dir": schema.StringAttribute{
				MarkdownDescription: "Local directory whose content `document_root` mirrors: files are sent when their " +
					"checksum differs, files that are not in `source_dir` are removed from `document_root` (also ones " +
					"that were there before the resource), nothing outside it is touched. Symlinks are followed only " +
					"to files inside `source_dir`. Unset: the document root's content is left alone.",
				Optional:   true,
				Validators: []validator.String{validators.StringFunc("a readable local directory", checkLocalDir)},
			},
			"static_locations": schema.ListNestedAttribute{
				MarkdownDescription: "URL prefixes served from `document_root` (`/static/app.css` reads " +
					"`<document_root>/static/app.css`; a missing file is a 404, never a request to the application). " +
					"Every other path goes to the application.",
				Optional: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"url_prefix": schema.StringAttribute{
						MarkdownDescription: "Prefix such as `/static/`: starts and ends with `/`.", Required: true,
						Validators: []validator.String{validators.StringFunc("a URL prefix such as /static/", nginx.ValidateURLPrefix)},
					},
					"expires": schema.StringAttribute{
						MarkdownDescription: "`expires` value (`7d`, `max`, `off`, `epoch`): sets `Expires` and `Cache-Control: max-age`. Conflicts with `cache_control`.",
						Optional:            true,
						Validators:          []validator.String{validators.StringFunc("an expires value such as 7d", nginx.ValidateExpires)},
					},
					"cache_control": schema.StringAttribute{
						MarkdownDescription: "`Cache-Control` header sent as is, such as `public, max-age=86400`.",
						Optional:            true, Validators: []validator.String{headerValueCheck},
					},
				}},
			},
			"app": schema.SingleNestedAttribute{
				MarkdownDescription: "The application server Nginx proxies to.",
				Required:            true,
				Attributes: map[string]schema.Attribute{
					"artifact_source": schema.StringAttribute{
						MarkdownDescription: "Local file to deploy (for example a compiled binary). Uploaded when its checksum differs from the host's.",
						Required:            true,
						Validators:          []validator.String{validators.ReadableFile()},
					},
					"artifact_path": schema.StringAttribute{
						MarkdownDescription: "Where the artifact goes on the host (root-owned, mode 0755). Default " +
							"`<working_dir>/bin/<file name of artifact_source>`. The previous version is kept next to it " +
							"during a deploy and put back when the new one fails its health check.",
						Optional: true, Computed: true,
						Validators: []validator.String{pathCheck},
					},
					"command": schema.ListAttribute{
						MarkdownDescription: "Command line of the application; the first element is an absolute path (usually " +
							"`artifact_path`). Never put secrets here: a command line is visible in the process list. Use `secret_environment`.",
						Required: true, ElementType: types.StringType,
						Validators: []validator.List{listvalidator.SizeAtLeast(1)},
					},
					"port": schema.Int64Attribute{
						MarkdownDescription: "Port the application listens on, on `127.0.0.1`.",
						Required:            true,
						Validators:          []validator.Int64{int64validator.Between(1, 65535)},
					},
					"environment": schema.MapAttribute{
						MarkdownDescription: "Environment variables (not secret: shown in plans). Written to the root-only environment file.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.Map{
							mapvalidator.KeysAre(envNameCheck),
							mapvalidator.ValueStringsAre(validators.StringFunc("printable text", nginx.ValidateEnvValue)),
						},
					},
					"secret_environment": schema.MapAttribute{
						MarkdownDescription: "Secret environment variables: sensitive, stored in the state, never shown in a plan, " +
							"an argv or a log. Written only to `/etc/foobar/<name>.env` (root, 0600), read by systemd.",
						Optional: true, Sensitive: true, ElementType: types.StringType,
						Validators: []validator.Map{
							mapvalidator.KeysAre(envNameCheck),
							mapvalidator.ValueStringsAre(validators.SecretStringFunc("printable text", nginx.ValidateEnvValue)),
						},
					},
					"secret_environment_wo": schema.MapAttribute{
						MarkdownDescription: "Secret environment variables, write-only: never stored in the state or the plan " +
							"(Terraform 1.11+). Needs `secret_environment_wo_version`.",
						Optional: true, Sensitive: true, WriteOnly: true, ElementType: types.StringType,
						Validators: []validator.Map{
							mapvalidator.KeysAre(envNameCheck),
							mapvalidator.ValueStringsAre(validators.SecretStringFunc("printable text", nginx.ValidateEnvValue)),
						},
					},
					"secret_environment_wo_version": schema.Int64Attribute{
						MarkdownDescription: "Change this number to deploy new `secret_environment_wo` values (Terraform cannot see a write-only value change).",
						Optional:            true,
					},
					"user": schema.StringAttribute{
						MarkdownDescription: "System user the application runs as; created (as a system user with no login " +
							"shell) when missing. Never `root`. Kept when the resource is destroyed: files the application " +
							"wrote elsewhere stay owned by it, and a deleted uid could later be reused by another account.",
						Required:   true,
						Validators: []validator.String{validators.StringFunc("a user name", nginx.ValidateUserName)},
					},
					"group": schema.StringAttribute{
						MarkdownDescription: "Group of the application; created when missing. Default: `user`.",
						Optional:            true, Computed: true,
						Validators: []validator.String{validators.StringFunc("a group name", nginx.ValidateUserName)},
					},
					"working_dir": schema.StringAttribute{
						MarkdownDescription: "The application's directory; created, or given to `user` with mode 0750. Default " +
							"`/opt/foobar/<name>`. Removed with the resource only when the resource created it; changing it " +
							"leaves the previous one in place.",
						Optional: true, Computed: true,
						Validators: []validator.String{pathCheck},
					},
					"health_check_path": schema.StringAttribute{
						MarkdownDescription: "Path requested on `http://127.0.0.1:<port>` to decide the application is up (2xx). Default `/healthz`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString(defHealthPath),
						Validators: []validator.String{validators.StringFunc("a path such as /healthz", nginx.ValidateHealthCheckPath)},
					},
					"health_check_timeout": schema.StringAttribute{
						MarkdownDescription: "How long a (re)started application may take to pass its health check, such as `30s`. Default `60s`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString(defHealthTimeout),
						Validators: []validator.String{validators.Duration(time.Second, 30*time.Minute)},
					},
					"restart": schema.SingleNestedAttribute{
						MarkdownDescription: "When systemd restarts the application (sysvinit does not supervise). Unset: `on-failure` after 1 second.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"mode": schema.StringAttribute{
								MarkdownDescription: "`no`, `on-failure` or `always`. Default `on-failure`.",
								Optional:            true, Computed: true, Default: stringdefault.StaticString(defRestartMode),
							},
							"delay_seconds": schema.Int64Attribute{
								MarkdownDescription: "Pause before a restart, 0 to 3600 seconds. Default `1`.",
								Optional:            true, Computed: true, Default: int64default.StaticInt64(defRestartDelay),
							},
						},
					},
					"reload_signal": schema.StringAttribute{
						MarkdownDescription: "Signal (`HUP`, `USR1`, ...) that makes the application reload; unset: no reload action.",
						Optional:            true,
						Validators:          []validator.String{validators.StringFunc("a signal name", nginx.ValidateSignal)},
					},
				},
			},
			"site_config":       computedString("The rendered Nginx site file (refresh shows what is on the host, so a plan shows the difference)."),
			"site_checksum":     computedString("SHA-256 of `site_config`."),
			"artifact_checksum": computedString("SHA-256 of the artifact (refresh: of the file on the host)."),
			"static_checksum": computedString("SHA-256 over the checksums and names of every file of `source_dir` " +
				"(refresh: of `document_root` on the host); null without `source_dir`."),
			"nginx_version": computedString("Nginx version on the host."),
			"init_system":   computedString("Service manager of the host: `systemd` or `sysvinit`."),
			"app_state":     computedString("State of the application service (`active`, `inactive`, `failed`, ...). A plan always wants `active`."),
			"app_pid": schema.Int64Attribute{
				MarkdownDescription: "Main PID of the application (0 when it is not running).", Computed: true,
			},
			"last_sync": schema.ObjectAttribute{
				MarkdownDescription: "What the last sync of `source_dir` sent: `files_sent`, `bytes_sent`, `files_unchanged`, `files_removed`, `dirs_removed`.",
				Computed:            true, AttributeTypes: lastSyncAttrTypes,
			},
			"drift": schema.ListAttribute{
				MarkdownDescription: "What refresh found changed on the host since the last apply (empty when nothing). A plan wants it empty: it repairs the drift.",
				Computed:            true, ElementType: types.StringType,
			},
		},
	}
}

// checkLocalDir accepts a readable local directory.
func checkLocalDir(p string) error {
	fi, err := os.Stat(validators.ExpandHome(p))
	if err != nil {
		if os.IsNotExist(err) {
			return errors.New("no such directory")
		}
		return fmt.Errorf("cannot read it: %w", err)
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// ---- conversion -----------------------------------------------------------

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

// ---- validation -------------------------------------------------------------

func (r *webServerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m webServerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if t := m.TLS; t != nil && !t.PrivateKeyPEM.IsUnknown() && !t.PrivateKeyPEMWO.IsUnknown() {
		if t.PrivateKeyPEM.IsNull() && t.PrivateKeyPEMWO.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("tls"), "Missing TLS Private Key",
				"tls needs the certificate's key: set tls.private_key_pem_wo (write-only, Terraform 1.11+) or tls.private_key_pem.")
		}
		if !t.PrivateKeyPEMWO.IsNull() && t.PrivateKeyPEMWOVersion.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("tls").AtName("private_key_pem_wo_version"), "Missing Version",
				"tls.private_key_pem_wo needs tls.private_key_pem_wo_version: Terraform cannot see a change of a write-only value, so change the version to deploy a new key.")
		}
	}
	if a := m.App; a != nil {
		if !a.SecretEnvironmentWO.IsNull() && !a.SecretEnvironmentWO.IsUnknown() && a.SecretEnvironmentWOVersion.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("app").AtName("secret_environment_wo_version"), "Missing Version",
				"app.secret_environment_wo needs app.secret_environment_wo_version: Terraform cannot see a change of a write-only value, so change the version to deploy new values.")
		}
		// A variable set in two of the maps.
		c := &conv{ctx: ctx}
		seen := map[string]string{}
		for _, src := range []struct {
			attr string
			m    types.Map
		}{{"environment", a.Environment}, {"secret_environment", a.SecretEnvironment}, {"secret_environment_wo", a.SecretEnvironmentWO}} {
			keys := make([]string, 0)
			for k := range c.strMap(src.m) {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if other, dup := seen[k]; dup {
					resp.Diagnostics.AddAttributeError(path.Root("app").AtName(src.attr).AtMapKey(k), "Duplicate Environment Variable",
						fmt.Sprintf("app.%s[%q] is also set in app.%s; set each variable once.", src.attr, k, other))
				}
				seen[k] = src.attr
			}
		}
		resp.Diagnostics.Append(c.diags...)
	}

	// Every rule of the service package that involves more than one value,
	// or has no per-attribute validator, checked on the whole model. Rules
	// about one value alone were reported by the attribute's validator.
	c := &conv{ctx: ctx}
	env, _ := m.environment(c, &m)
	site := m.toSite(c)
	app := m.toApp(c, env)
	if c.unknown || c.diags.HasError() {
		resp.Diagnostics.Append(c.diags...)
		return
	}
	ec := errorContext{
		skip: func(fe *fault.FieldError) bool { return fe.Single && !strings.HasPrefix(fe.Path, "app.command") },
		rename: func(p string) string {
			switch {
			case p == "app.name":
				return "name"
			case p == "tls.private_key_pem" && m.TLS != nil && m.TLS.PrivateKeyPEM.IsNull():
				return "tls.private_key_pem_wo"
			}
			return p
		},
	}
	for _, err := range []error{site.Validate(), app.Validate(), nginx.CheckPair(site, app)} {
		if _, ok := errors.AsType[fault.FieldErrors](err); ok {
			ec.addError(&resp.Diagnostics, "Invalid Attribute Value", err)
		}
	}
}

// ---- plan -------------------------------------------------------------------

func (r *webServerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config webServerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *webServerModel
	if !req.State.Raw.IsNull() {
		state = &webServerModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	plan.fillAppDefaults(&config)

	// The id names the site on its host; it stays as it is while the name
	// and the host do (ids written before the import-ID grammar read
	// <name>@<host>).
	switch {
	case state != nil && plan.Name.Equal(state.Name) && plan.SSH.Host.Equal(state.SSH.Host):
		plan.ID = state.ID
	case !plan.Name.IsUnknown() && !plan.SSH.Host.IsUnknown():
		plan.ID = types.StringValue(webServerID(plan.SSH.Host.ValueString(), plan.Name.ValueString()))
	}

	// Artifact checksum, from the local file.
	plan.ArtifactChecksum = types.StringUnknown()
	if plan.App != nil && !plan.App.ArtifactSource.IsUnknown() {
		sum, err := nginx.ArtifactChecksum(validators.ExpandHome(plan.App.ArtifactSource.ValueString()))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("app").AtName("artifact_source"), "Unreadable Artifact",
				fmt.Sprintf("Could not read the artifact %s: %s", plan.App.ArtifactSource.ValueString(), err))
			return
		}
		plan.ArtifactChecksum = types.StringValue(sum)
	}

	// Static digest, from source_dir.
	switch {
	case plan.SourceDir.IsNull():
		plan.StaticChecksum = types.StringNull()
	case plan.SourceDir.IsUnknown():
		plan.StaticChecksum = types.StringUnknown()
	default:
		digest, skipped, err := nginx.StaticDigest(validators.ExpandHome(plan.SourceDir.ValueString()))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("source_dir"), "Unusable Static Files",
				fmt.Sprintf("Could not read %s: %s", plan.SourceDir.ValueString(), err))
			return
		}
		for _, s := range skipped {
			resp.Diagnostics.AddAttributeWarning(path.Root("source_dir"), "Static File Skipped",
				fmt.Sprintf("%s is not deployed: %s.", s.RelPath, s.Reason))
		}
		plan.StaticChecksum = types.StringValue(digest)
	}

	// Host facts known from the last refresh.
	version := ""
	plan.NginxVersion, plan.InitSystem = types.StringUnknown(), types.StringUnknown()
	if state != nil {
		if v := state.NginxVersion.ValueString(); v != "" {
			plan.NginxVersion, version = state.NginxVersion, v
		}
		if v := state.InitSystem.ValueString(); v != "" {
			plan.InitSystem = state.InitSystem
		}
	}

	// The rendered site (the certificate and key do not appear in it).
	c := &conv{ctx: ctx}
	site := plan.toSite(c)
	versionMatters := site.TLS != nil && site.TLS.HTTP2 && version == ""
	plan.SiteConfig, plan.SiteChecksum = types.StringUnknown(), types.StringUnknown()
	if !c.unknown && !c.diags.HasError() && !versionMatters {
		if conf, err := site.RenderConfigOnly(nginx.Options{NginxVersion: version}); err == nil {
			plan.SiteConfig = types.StringValue(string(conf))
			plan.SiteChecksum = types.StringValue(apply.Checksum(conf))
		}
	}

	// What the apply will make true on the host.
	plan.AppState = types.StringValue("active")
	plan.Drift = types.ListValueMust(types.StringType, []attr.Value{})
	plan.AppPID = types.Int64Unknown()
	plan.LastSync = types.ObjectUnknown(lastSyncAttrTypes)
	if state != nil {
		if appUnchanged(state, &plan) {
			plan.AppPID = state.AppPID
		}
		if state.StaticChecksum.Equal(plan.StaticChecksum) && !state.LastSync.IsNull() {
			plan.LastSync = state.LastSync
		}
		if plan.SourceDir.IsNull() {
			plan.LastSync = state.LastSync
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
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

// ---- apply ------------------------------------------------------------------

// deployment builds what nginx.Deploy needs from the plan and the
// configuration (write-only values), reading the local files and checking
// they are still what the plan saw.
func (r *webServerResource) deployment(ctx context.Context, plan, config *webServerModel, host string, model []byte) (nginx.Deployment, []string, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := &conv{ctx: ctx}
	env, secrets := plan.environment(c, config)
	site := plan.toSite(c)
	if config.TLS != nil && !config.TLS.PrivateKeyPEMWO.IsNull() && site.TLS != nil {
		site.TLS.PrivateKeyPEM = config.TLS.PrivateKeyPEMWO.ValueString()
	}
	if site.TLS != nil {
		secrets = append(secrets, site.TLS.PrivateKeyPEM)
	}
	app := plan.toApp(c, env)
	diags.Append(c.diags...)
	if c.unknown {
		diags.AddError("Unknown Values", "Some values are still unknown at apply time; this is a bug in the provider.")
	}
	if diags.HasError() {
		return nginx.Deployment{}, secrets, diags
	}
	src := plan.App.ArtifactSource.ValueString()
	artifact, err := nginx.ReadArtifact(validators.ExpandHome(src), planned(plan.ArtifactChecksum))
	if ce := (*nginx.ChangedError)(nil); errors.As(err, &ce) {
		diags.AddAttributeError(path.Root("app").AtName("artifact_source"), "Artifact Changed Since Plan",
			fmt.Sprintf("%s has checksum %s, but the plan was made with %s: run plan again.", src, ce.Got, ce.Planned))
		return nginx.Deployment{}, secrets, diags
	} else if err != nil {
		diags.AddAttributeError(path.Root("app").AtName("artifact_source"), "Unreadable Artifact", err.Error())
		return nginx.Deployment{}, secrets, diags
	}
	d := nginx.Deployment{
		Site:               site,
		App:                app,
		Artifact:           artifact,
		DisableDefaultSite: plan.DisableDefaultSite.ValueBool(),
		Install:            plan.Install.ValueBool(),
		HealthTimeout:      plan.healthTimeout(),
		Host:               host,
		Model:              model,
	}
	if !plan.SourceDir.IsNull() {
		static, err := nginx.ReadStatic(validators.ExpandHome(plan.SourceDir.ValueString()), planned(plan.StaticChecksum))
		var ce *nginx.ChangedError
		var ue *nginx.UnreadableError
		switch {
		case errors.As(err, &ce):
			diags.AddAttributeError(path.Root("source_dir"), "Static Files Changed Since Plan",
				fmt.Sprintf("The files under %s changed after the plan was made: run plan again.", plan.SourceDir.ValueString()))
		case errors.As(err, &ue):
			diags.AddAttributeError(path.Root("source_dir"), "Unreadable Static File", err.Error())
		case err != nil:
			diags.AddAttributeError(path.Root("source_dir"), "Unusable Static Files", err.Error())
		}
		if err != nil {
			return d, secrets, diags
		}
		d.Static = static
	}
	return d, secrets, diags
}

// planned is a checksum the plan computed, "" when it could not.
func planned(v types.String) string {
	if v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

func (r *webServerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, req.Config, &resp.State, &resp.Diagnostics)
}

func (r *webServerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, req.Config, &resp.State, &resp.Diagnostics)
}

func (r *webServerResource) apply(ctx context.Context, planIn tfsdk.Plan, configIn tfsdk.Config, stateOut *tfsdk.State, diags *diag.Diagnostics) {
	var plan, config webServerModel
	diags.Append(planIn.Get(ctx, &plan)...)
	diags.Append(configIn.Get(ctx, &config)...)
	if diags.HasError() {
		return
	}
	cl, d := r.data.client(ctx, plan.SSH)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	model, err := plan.encodeRecord(ctx)
	if err != nil {
		diags.AddError("Encode Deployment Record Error", err.Error())
		return
	}
	dep, secrets, d := r.deployment(ctx, &plan, &config, cl.Addr(), model)
	ctx = maskSecrets(ctx, secrets)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	tflog.Debug(ctx, "deploying web server", map[string]any{"host": cl.Addr(), "name": dep.Site.Name,
		"static_files": len(dep.Static), "artifact_bytes": len(dep.Artifact)})
	res, err := nginx.Deploy(ctx, cl, dep)
	for _, w := range res.Warnings {
		diags.AddWarning("Web Server Warning", w)
	}
	if res.Synced {
		tflog.Info(ctx, "static files synced", map[string]any{"root": dep.Site.DocumentRoot,
			"files_sent": res.Sync.FilesSent, "bytes_sent": res.Sync.BytesSent, "files_unchanged": res.Sync.FilesUnchanged,
			"files_removed": res.Sync.FilesRemoved, "dirs_removed": res.Sync.DirsRemoved})
	}
	if err != nil {
		errorContext{host: cl.Addr()}.addError(diags, "Deploy Web Server Error", err)
		return
	}
	tflog.Info(ctx, "web server deployed", map[string]any{"host": cl.Addr(), "nginx_installed": res.NginxInstalled,
		"app_changed": res.AppChanged, "app_restarted": res.AppRestarted, "site_changed": res.SiteChanged, "site_reloaded": res.SiteReloaded})

	obs, err := nginx.Inspect(ctx, cl, nginx.InspectRequest{Name: dep.Site.Name, ArtifactPath: dep.App.ArtifactPath})
	if err != nil {
		diags.AddError("Read Web Server Error", fmt.Sprintf("The deployment on %s succeeded, but reading it back failed: %s", cl.Addr(), err))
		return
	}
	conf, err := dep.Site.RenderConfigOnly(nginx.Options{NginxVersion: res.NginxVersion})
	if err != nil {
		diags.AddError("Render Site Error", err.Error())
		return
	}
	plan.SiteConfig = types.StringValue(string(conf))
	plan.SiteChecksum = types.StringValue(apply.Checksum(conf))
	plan.ArtifactChecksum = types.StringValue(apply.Checksum(dep.Artifact))
	plan.NginxVersion = types.StringValue(res.NginxVersion)
	plan.InitSystem = types.StringValue(string(res.Init))
	if !obs.App.Active() {
		diags.AddError("Application Not Running", fmt.Sprintf("%s on %s passed its health check but is now %s.", nginx.ServiceName(dep.App.Name), cl.Addr(), obs.App.ActiveState))
		return
	}
	plan.AppState = types.StringValue("active")
	// Values the plan already knew stay as planned (Terraform requires it);
	// the next refresh reads them again.
	if plan.AppPID.IsUnknown() {
		plan.AppPID = types.Int64Value(int64(obs.App.MainPID))
	}
	plan.Drift = types.ListValueMust(types.StringType, []attr.Value{})
	if plan.LastSync.IsUnknown() {
		plan.LastSync = types.ObjectNull(lastSyncAttrTypes)
		if res.Synced {
			plan.LastSync = syncObject(res.Sync)
		}
	}
	diags.Append(stateOut.Set(ctx, &plan)...)
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

// ---- read -------------------------------------------------------------------

func (r *webServerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st webServerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, st.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	imported := st.App == nil
	ireq := nginx.InspectRequest{Name: st.Name.ValueString(), Manifest: imported || !st.SourceDir.IsNull()}
	if !imported {
		ireq.ArtifactPath = st.App.ArtifactPath.ValueString()
		ireq.DocumentRoot = st.DocumentRoot.ValueString()
	}
	obs, err := nginx.Inspect(ctx, cl, ireq)
	if err != nil {
		resp.Diagnostics.AddError("Read Web Server Error", fmt.Sprintf("Could not read %s on %s: %s", ireq.Name, cl.Addr(), err))
		return
	}
	if obs.Gone() {
		if imported {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf("There is no foobar_web_server named %q on %s.", ireq.Name, cl.Addr()))
			return
		}
		tflog.Info(ctx, "web server gone from the host; removing it from the state", map[string]any{"host": cl.Addr(), "name": ireq.Name})
		resp.State.RemoveResource(ctx)
		return
	}
	if imported {
		if obs.Meta == nil {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf(
				"%s on %s has no deployment record (%s), so its configuration cannot be adopted: import works for "+
					"deployments made by this provider. Remove the site and the service by hand and let apply create them.",
				ireq.Name, cl.Addr(), nginx.MetaPath("", ireq.Name)))
			return
		}
		m, err := decodeRecord(obs.Meta.Model)
		if err != nil {
			resp.Diagnostics.AddError("Import Web Server Error", fmt.Sprintf("The deployment record of %s on %s is unusable: %s", ireq.Name, cl.Addr(), err))
			return
		}
		m.SSH, m.ID, m.Name = st.SSH, st.ID, st.Name
		st = m
	}
	st.observe(ctx, obs)
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
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

// ---- delete and import ---------------------------------------------------

func (r *webServerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st webServerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cl, d := r.data.client(ctx, st.SSH)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	rm := nginx.Removal{Name: st.Name.ValueString(), Host: cl.Addr(), DocumentRoot: st.DocumentRoot.ValueString()}
	if st.App != nil {
		rm.ArtifactPath, rm.WorkingDir = st.App.ArtifactPath.ValueString(), st.App.WorkingDir.ValueString()
	}
	res, err := nginx.Remove(ctx, cl, rm)
	for _, w := range res.Warnings {
		resp.Diagnostics.AddWarning("Web Server Warning", w)
	}
	if err != nil {
		errorContext{host: cl.Addr()}.addError(&resp.Diagnostics, "Remove Web Server Error", err)
		return
	}
	tflog.Info(ctx, "web server removed", map[string]any{"host": cl.Addr(), "name": rm.Name,
		"document_root_kept": res.DocumentRootKept, "working_dir_kept": res.WorkingDirKept, "default_site_restored": res.DefaultSiteRestored})
}

// webServerID is the id of a site: HOST/NAME, as the import-ID grammar
// (import_id.go) writes it.
func webServerID(host, name string) string { return host + "/" + name }

// ImportState takes [USER@]HOST[:PORT]/NAME (import_id.go). The host is
// reached with the provider's SSH settings and any user and port the ID
// names; the configuration is read back from the deployment record the
// provider keeps on the host (secrets excepted). The form of earlier
// versions, NAME@HOST, is still accepted, with a warning.
func (r *webServerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	members, name, ok := strings.Cut(req.ID, "/")
	if !ok {
		if legacyName, host, isLegacy := strings.Cut(req.ID, "@"); isLegacy && nginx.ValidateSiteName(legacyName) == nil && validators.CheckHost(host) == nil {
			resp.Diagnostics.AddWarning("Deprecated Import ID", fmt.Sprintf(
				"%q is the import ID form of earlier versions (NAME@HOST); write %q: \"@\" now always means the SSH user.", req.ID, webServerID(host, legacyName)))
			members, name = host, legacyName
		} else {
			resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf(
				"Import ID %q must be %s/NAME, for example 10.0.0.21/shop or deploy@10.0.0.21:22/shop.", req.ID, importIDGrammar))
			return
		}
	}
	if err := nginx.ValidateSiteName(name); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q: the site name: %s", req.ID, err))
		return
	}
	member, err := parseImportMember(members)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q: %s", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), webServerID(member.Host, name))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ssh"), member.connection())...)
}
