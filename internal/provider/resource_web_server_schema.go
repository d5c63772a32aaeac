// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/nginx"
	"github.com/foobar/terraform-provider-foobar/internal/pemcheck"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
}

// webServerSchema is the schema of foobar_web_server, in a function of its
// own (Schema returns it; the schema has no versions and no state upgrader).
func webServerSchema() schema.Schema {
	pathCheck := validators.StringFunc("an absolute, normalized path of letters, digits and ._/+@,:=-", nginx.ValidatePath)
	managedDirCheck := validators.StringFunc("a directory of its own below /srv/, /var/www/, /opt/ or /home/<user>/", nginx.ValidateManagedDir)
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
			"Every change goes through the provider's safe-apply engine. Site: `nginx -t` on " +
			"the whole configuration as it will be, before any live file changes (in a private mount namespace that shows " +
			"the new files and links at their live paths), then the atomic swap, reload (or start), then a check that nginx runs new workers and serves the site " +
			"on its port; otherwise the previous files are put back. Application: a changed artifact, command or " +
			"environment restarts it, and it must pass its health check within `app.health_check_timeout`; " +
			"otherwise the previous artifact and files are put back and restarted, and the error shows the " +
			"application's last log lines.\n\n" +
			"Crashes: on a systemd host the provider owns the drop-in " +
			"`/etc/systemd/system/nginx.service.d/foobar-restart.conf` (`Restart=on-failure`, `RestartSec=1s`), " +
			"because Debian's `nginx.service` restarts nothing: a killed or crashed Nginx is started again by systemd " +
			"and its server is back in the load balancer's rotation without an apply. The drop-in is shared by every " +
			"site on the host, removed with the host's last site, and its absence or an edit is drift. The " +
			"application's unit restarts it by `app.restart`. Hosts without systemd get no drop-in: there nothing " +
			"restarts a crashed Nginx or application (sysvinit has no supervisor).\n\n" +
			"Refresh detects drift in the site file, the static files, the unit, the restart drop-in, the artifact and the service " +
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
				MarkdownDescription: "Install Nginx with `apt-get` when it is missing. Default `true`. " +
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
				MarkdownDescription: "Also listen on `[::]`. Default `false`. Needs IPv6 on the host: where Nginx cannot listen on `[::]`, the apply fails and rolls back as for any refused reload.",
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
						Validators:          []validator.String{validators.StringFunc("PEM certificates", pemcheck.Certificates)},
					},
					"private_key_pem": schema.StringAttribute{
						MarkdownDescription: "Private key of the certificate, PEM. Sensitive; stored in the state. Conflicts with `private_key_pem_wo`.",
						Optional:            true, Sensitive: true,
						Validators: []validator.String{
							validators.SecretStringFunc("a PEM private key", pemcheck.PrivateKey),
							stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("private_key_pem_wo")),
						},
					},
					"private_key_pem_wo": schema.StringAttribute{
						MarkdownDescription: "Private key of the certificate, PEM, write-only: never stored in the state or the plan. " +
							"Needs Terraform 1.11+ and `private_key_pem_wo_version`.",
						Optional: true, Sensitive: true, WriteOnly: true,
						Validators: []validator.String{validators.SecretStringFunc("a PEM private key", pemcheck.PrivateKey)},
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
				MarkdownDescription: "Response compression. Unset (as in the stack example): nothing is compressed. Set (even `{}`): on, for `text/html` and `types`.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"enabled": schema.BoolAttribute{
						MarkdownDescription: "Compress responses. Default `true` once the `gzip` block is set.",
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
					"proxy_connect": schema.StringAttribute{MarkdownDescription: "`proxy_connect_timeout` to the application, at most 75s (default " +
						"60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"proxy_read": schema.StringAttribute{MarkdownDescription: "`proxy_read_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
					"proxy_send": schema.StringAttribute{MarkdownDescription: "`proxy_send_timeout` (default 60s).", Optional: true, Validators: []validator.String{durationCheck}},
				},
			},
			"security_headers": schema.SingleNestedAttribute{
				MarkdownDescription: "Protective response headers, added to every response (`always`). Unset (as in the stack example): none is sent. " +
					"Set (even `{}`): `X-Content-Type-Options: nosniff` plus the headers given.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"content_type_options": schema.BoolAttribute{
						MarkdownDescription: "Send `X-Content-Type-Options: nosniff`. Default `true` once the `security_headers` block is set.",
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
				MarkdownDescription: "Directory on the host the static files are served from. Destroy removes the files the resource put " +
					"there (see `source_dir`) and nothing else; the directory itself goes only when the resource created it " +
					"and it is then empty. Changing it leaves the previous one in place. It must be a directory of its own " +
					"below `/srv/`, `/var/www/`, `/opt/` or `/home/<user>/` (no hidden element such as `.ssh`): a directory of the " +
					"system or of another service (`/etc`, `/usr`, `/var/lib/mysql`, `/var/log`, `/root` ...) is refused at plan time.",
				Required:   true,
				Validators: []validator.String{managedDirCheck},
			},
			"source_dir": schema.StringAttribute{
				MarkdownDescription: "Local directory whose files the resource puts into `document_root`: files are sent when their " +
					"checksum differs; a file that an earlier apply of this resource put there and that is no longer in `source_dir` " +
					"is removed (and the directories it created, once empty). Files and directories it did not put there are " +
					"never removed, not on update and not on destroy (the resource keeps a record of its own files on the host, " +
					"in `/var/lib/foobar/web/<name>/static.record`); one that is in the way of a file of `source_dir` fails the " +
					"apply with its path. Nothing outside `document_root` is touched. Symlinks are followed only to files inside " +
					"`source_dir`. Unset: the document root's content is left alone.",
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
							"during a deploy and put back when the new one fails its health check. Its directory follows the rule of `working_dir`.",
						Optional: true, Computed: true,
						Validators: []validator.String{validators.StringFunc("a file in a directory of its own below /srv/, /var/www/, /opt/ or /home/<user>/", nginx.ValidateArtifactPath)},
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
							"leaves the previous one in place. Same rule as `document_root`: a directory of its own below `/srv/`, `/var/www/`, " +
							"`/opt/` or `/home/<user>/`, never a system directory.",
						Optional: true, Computed: true,
						Validators: []validator.String{managedDirCheck},
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
			"drain": schema.SingleNestedAttribute{
				MarkdownDescription: "Rolling deploys that clients never see, for a web server behind `foobar_load_balancer`. When " +
					"the application must restart (a new artifact, command or environment) while it runs, the web server " +
					"leaves the load balancers' rotation first: its health check (`app.health_check_path`, which the load " +
					"balancers must check through Nginx) answers 503 while a flag file `/run/foobar-drain/<name>` exists; the " +
					"apply waits at least `health_check_interval` × (`fall` + 1), the time the load balancers need to mark it down, " +
					"and until every address that checked it since (each load balancer) has been answered 503 `fall` times, as " +
					"`/var/log/nginx/foobar-<name>.drain.log` records (at most twice that time and 5 s more), then until Nginx " +
					"has no request in flight (its `stub_status`, at most `in_flight_timeout`), restarts the " +
					"application, waits for it to pass its health check, removes the flag, and waits `health_check_interval` × " +
					"(`rise` + 1) until the load balancers have put it back. Set the three check values to the load balancer's " +
					"`health_check` of this server; order the web servers with `depends_on` so that one drains at a time. " +
					"The drain takes effect from the apply after the one that enables it (the site must already answer 503).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"health_check_interval": schema.StringAttribute{
						MarkdownDescription: "The load balancers' health-check interval for this server (`health_check.interval`), 100ms to 1m, such as `2s`.",
						Required:            true,
						Validators:          []validator.String{validators.Duration(100*time.Millisecond, time.Minute)},
					},
					"fall": schema.Int64Attribute{
						MarkdownDescription: "Failed checks that take the server out (`health_check.fall`), 1 to 100. Default `2`.",
						Optional:            true, Computed: true, Default: int64default.StaticInt64(defDrainFall),
						Validators: []validator.Int64{int64validator.Between(1, 100)},
					},
					"rise": schema.Int64Attribute{
						MarkdownDescription: "Passed checks that put it back (`health_check.rise`), 1 to 100. Default `2`.",
						Optional:            true, Computed: true, Default: int64default.StaticInt64(defDrainRise),
						Validators: []validator.Int64{int64validator.Between(1, 100)},
					},
					"in_flight_timeout": schema.StringAttribute{
						MarkdownDescription: "Longest wait for requests in flight once the server is out of rotation, 0s to 1h. Default `30s`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString(defDrainInFlight),
						Validators: []validator.String{validators.Duration(0, time.Hour)},
					},
				},
			},
			"site_config":       computedString("The rendered Nginx site file (refresh shows what is on the host, so a plan shows the difference)."),
			"site_checksum":     computedString("SHA-256 of `site_config`."),
			"artifact_checksum": computedString("SHA-256 of the artifact (refresh: of the file on the host)."),
			"static_checksum": computedString("SHA-256 over the checksums and names of every file of `source_dir` " +
				"(refresh: of `document_root` on the host); null without `source_dir`."),
			"nginx_version": computedString("Upstream version of Nginx on the host, such as `1.26.3`."),
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
