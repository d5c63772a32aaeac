// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/foobar/terraform-provider-foobar/internal/haproxy"
	"github.com/foobar/terraform-provider-foobar/internal/pemcheck"
	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

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
	// bulky values (PEM text) are never shown whole: the check's error
	// describes them.
	bulky bool
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
		"backends.tls.ca_pem":                 {desc: "PEM CA certificates", str: pemcheck.Certificates, bulky: true},
		"backends.tls.server_name":            {desc: "a host name", str: haproxy.ValidateHostname},
		"backends.health_check.path":          {desc: "a request URI starting with /", str: haproxy.ValidateRequestURI},
		"backends.health_check.host":          {desc: "a host name", str: haproxy.ValidateHostname},
		"backends.health_check.expect_status": {desc: "an HTTP status code", num: lbIntCheck(haproxy.ValidateStatusCode)},
		"backends.health_check.interval":      dur,
		"backends.health_check.rise":          {desc: "a count of checks", num: lbRangeCheck(1, 100, "")},
		"backends.health_check.fall":          {desc: "a count of checks", num: lbRangeCheck(1, 100, "")},
		"backends.health_check.error_limit":   {desc: "a count of errors", num: lbRangeCheck(1, 100, "")},
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
	if c.bulky {
		v = validators.BulkyStringFunc(c.desc, c.str)
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
			"connect": lbOptString(lbDurDesc("Maximum time to establish the TCP connection to a server.", haproxy.DefaultTimeoutConnect), lbStrV("timeouts.connect")),
			"client":  lbOptString(lbDurDesc("Maximum inactivity of a client in the middle of a request or response.", haproxy.DefaultTimeoutClient), lbStrV("timeouts.client")),
			"server": lbOptString(lbDurDesc("Maximum inactivity of a server (time to the first byte of the response, and between "+
				"bytes).", haproxy.DefaultTimeoutServer), lbStrV("timeouts.server")),
			"http_request": lbOptString(lbDurDesc("Maximum time a client may take to send a complete request header (protects against "+
				"slowloris).", haproxy.DefaultTimeoutHTTPRequest), lbStrV("timeouts.http_request")),
			"http_keep_alive": lbOptString(lbDurDesc("How long an idle keep-alive client connection waits for its next "+
				"request.", haproxy.DefaultTimeoutHTTPKeepAlive), lbStrV("timeouts.http_keep_alive")),
			"queue": lbOptString(lbDurDesc("Maximum time a request waits for a free server slot when every server is at its "+
				"`maxconn`.", haproxy.DefaultTimeoutQueue), lbStrV("timeouts.queue")),
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
			MarkdownDescription: "Servers of the backend. A request whose connection to a server fails is retried (up to 3 times, each on another server: `option redispatch 1`), " +
				"so a server that stops does not fail requests (tested with a server stopped under load). GET and HEAD requests are also retried on another server when the server " +
				"answers 502, 503 or 504 (nginx whose application died), closes without an answer, or does not answer within the backend's server timeout; other methods are retried " +
				"only when they never reached the server. A server that hangs or dies is taken out by its health check (`fall` × `interval`); until then, POST and other non-idempotent " +
				"requests sent to it fail. Tested under load with the application killed, the host's container killed and the host cut from the network: no GET failed, no POST " +
				"started after the server was marked down failed. Keep `timeouts.server` well below your clients' own timeout, so that a GET stuck on a dead server is retried in time.",
			Required: true, NestedObject: server,
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
				"rise": lbOptInt(fmt.Sprintf("Consecutive successful checks that bring a server back up. Default: "+
					"`%d`.", haproxy.DefaultHealthCheckRise), lbIntV("backends.health_check.rise")),
				"fall": lbOptInt(fmt.Sprintf("Consecutive failed checks that take a server down. A server is taken out of rotation within `fall` × `interval`. Default: "+
					"`%d`.", haproxy.DefaultHealthCheckFall), lbIntV("backends.health_check.fall")),
				"error_limit": lbOptInt("Also watch the servers' answers to real traffic: this many consecutive errors (a 5xx other than 501 and 505, "+
					"no answer, a timeout) take a server out of rotation at once, without waiting for `fall` × `interval` "+
					"(`observe layer7 error-limit N on-error mark-down`); its health check brings it back (`rise`). "+
					"For an application that dies behind Nginx (which then answers 502): fewer POSTs fail in the moment before the health check notices. "+
					"Leave it unset when an application answers 5xx for reasons that do not mean the server is broken: "+
					"a few such answers in a row would take every server out. 1 to 100. Default: unset (off).", lbIntV("backends.health_check.error_limit")),
			},
		},
		"sticky_cookie": lbOptString("Name of a cookie HAProxy inserts to keep a client on the same server. Default: no stickiness.", lbStrV("backends.sticky_cookie")),
		"tls": schema.SingleNestedAttribute{
			MarkdownDescription: "Connect to every server of the backend over TLS, with the server's certificate verified: it must chain to `ca_pem` and name `server_name` " +
				"(`ssl verify required ca-file ... sni ... verifyhost ...` on each server line). The health checks use the same TLS, so a server whose certificate " +
				"does not verify, or that does not speak TLS on its `port`, is marked DOWN and gets no traffic. The CA is written to a file under `" + haproxy.FilesDir + "` " +
				"whose name carries a hash of its content. The servers' `port` must be their TLS port (for a `foobar_web_server`, its `tls.port`). Default: plain HTTP to the servers.",
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"ca_pem": schema.StringAttribute{
					MarkdownDescription: "One or more PEM CA certificates that the servers' certificates must chain to (not secret).",
					Required:            true, Validators: lbStrV("backends.tls.ca_pem"),
				},
				"server_name": schema.StringAttribute{
					MarkdownDescription: "Host name sent as SNI (for requests and health checks) and that each server's certificate must hold in its subject " +
						"alternative names, such as `web.internal.example.com`: every server of the backend presents a certificate for this name.",
					Required: true, Validators: lbStrV("backends.tls.server_name"),
				},
			},
		},
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
			"refresh": lbOptString(lbDurDesc("Auto-refresh interval of the statistics page.", haproxy.DefaultStatsRefresh), lbStrV("stats.refresh")),
			"prometheus": lbOptBool("Serve HAProxy's built-in Prometheus exporter at "+
				"`"+haproxy.PrometheusPath+"` on the stats listener (not protected by `user`/`password`). Default: `false`.", false),
		},
	}
	s := schema.Schema{
		MarkdownDescription: "HAProxy on one host, as a load balancer for HTTP and HTTPS: frontends, backends with health checks, routing rules, TLS, statistics and Prometheus metrics.\n\n" +
			"The provider renders `" + haproxy.ConfigPath + "` and applies it safely: " +
			"HAProxy is installed when missing (apt-get; the host must be Debian or derived from it), the new file (with its certificate files) is " +
			"checked with `haproxy -c` " +
			"before the live file changes (in a private mount namespace that shows the new files at their live paths), swapped atomically and reloaded without dropping connections " +
			"(master-worker mode; the listening sockets pass to the new worker). " +
			"The apply then checks that a new worker really started and that every listener answers; on any failure the previous file is put back and reloaded. " +
			"A second apply with no change writes and reloads nothing. A hand edit on the host shows in the next plan as an update of `rendered_config`, and apply puts the managed file back. " +
			"Destroying the resource restores the file that was there before the first apply (for example Debian's stock `haproxy.cfg`) and reloads; HAProxy keeps running.\n\n" +
			"Every value that reaches the file is checked at plan time, so a typo is refused before anything touches the host. " +
			"Rendered defaults: keep-alive to clients and servers, idle server connections reused (`http-reuse safe`), one thread per CPU, " +
			"3 retries, each on another server, on connection failures (and for GET and HEAD also on 502, 503, 504, an empty answer or a server timeout), " +
			"and a health check of every server (HTTP with `health_check`, a TCP connect without it) " +
			"every 2s, taking a server out after 3 failures.",
		Attributes: map[string]schema.Attribute{
			"ssh": connectionSchema(),
			"id": schema.StringAttribute{
				MarkdownDescription: "The host's address (`ssh.host`).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"install": lbOptBool("Install HAProxy with `apt-get` when it is missing. With `false`, a "+
				"host without HAProxy is an error. Default: `true`.", true),
			"maxconn": lbOptInt(fmt.Sprintf("Process-wide limit of concurrent connections (global `maxconn`). Each connection costs about 32 KiB of buffers. Default: "+
				"`%d`.", haproxy.DefaultMaxConn), lbIntV("maxconn")),
			"nbthread": lbOptInt("Number of worker threads. Default: one per CPU HAProxy may run on. Debian's HAProxy 2.6 accepts at most 64.", lbIntV("nbthread")),
			"hard_stop_after": lbOptString(lbDurDesc("Bounds how long the old worker keeps serving its open connections after a "+
				"reload.", "")+" Default: no bound (old workers exit when their last connection closes; an idle keep-alive client "+
				"connection is kept until its next request, answered with `Connection: close`, or until "+
				"`timeouts.http_keep_alive`).", lbStrV("hard_stop_after")),
			"timeouts": timeouts,
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
				MarkdownDescription: "Upstream version of HAProxy on the host, such as `3.0.11` (Debian 13) or `2.6.12` (Debian 12).",
				Computed:            true,
			},
			"haproxy_package_version": schema.StringAttribute{
				MarkdownDescription: "The version as the host's `haproxy -v` reports it, which for a distribution's build carries its package revision, " +
					"such as `3.0.11-1+deb13u4`; for an upstream build it equals `haproxy_version`.",
				Computed: true,
			},
			"high_availability": lbHASchema(),
		},
	}
	for k, a := range lbHAComputed() {
		s.Attributes[k] = a
	}
	return s
}
