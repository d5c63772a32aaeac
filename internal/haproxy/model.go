// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package haproxy is the service half of the foobar_load_balancer resource:
// a typed model of an HAProxy configuration, its validation against the
// grammar of haproxy.cfg, a deterministic renderer, the extra files the
// configuration references, parsers for what an HAProxy host reports, and
// the steps that deploy, inspect and remove a configuration on a host.
//
// Nothing here dials or imports Terraform. The provider converts its schema
// (which maps 1:1 onto Config; attribute names are given in each field's
// comment and used in validation error paths) into a Config, calls Validate
// at plan time, and hands a Deployment to Deploy.
//
// The rendered configuration targets HAProxy 2.6 (Debian bookworm) and 3.0
// (Debian trixie). The tests run haproxy -c on every golden file with the
// haproxy in PATH, and with every binary listed in FOOBAR_HAPROXY_BINARIES
// (so a 3.0 build can be checked next to Debian's 2.6).
//
// # Deploying (deployment.go, over a remote.Runner and internal/apply)
//
// Deploy, Inspect and Remove do the host work of the resource; they never
// dial (the caller hands them a runner) and return typed errors
// (*fault.StepError) the caller turns into its own messages.
//
//  1. Render and Files; sha256 of the rendered bytes is the change and drift
//     key (Files' paths carry their own content hash).
//  2. Probe the host in one round trip: BuildInfoArgv (version; exit 127
//     means not installed, then Install, through apply.InstallPackages),
//     ProcessesArgv (the master and its workers, from /proc), ListFilesArgv
//     (support files of earlier configurations, see StaleFiles).
//  3. The apply engine writes every File, ConfigPath and the Record as
//     candidates, swaps them in, runs ValidateArgv(ConfigPath) with
//     everything in place (FilterCheckOutput for the operator), reloads with
//     the service manager's apply.ActionReloadOrStart (Debian's unit sends
//     SIGUSR2 to the master, which hands the listening sockets to the new
//     worker), and removes the stale files.
//  4. Verifier proves the reload: a worker that was not there before (a
//     master that fails to load the new file keeps the old workers and
//     systemctl still reports success) and every Endpoint answering with
//     HAProxy's own 400 to a malformed request. On failure the engine
//     restores the previous files and reloads, and Verifier checks the
//     previous configuration (EndpointsFromConfig) the same way.
//  5. Redact gives the view of haproxy.cfg that may be shown (the stats
//     password replaced); the Record at RecordPath keeps the Config that was
//     applied (write-only secrets left out) and the sha256 of the file as
//     written, so Inspect tells this package's file from a hand edit and an
//     import can take the configuration back.
//
// Remove gives back the haproxy.cfg found before the first Deploy
// (apply.RestoreOriginal) and reloads; HAProxy keeps running.
//
// Fixed behaviour rendered into every configuration (the provider describes
// it in the resource documentation):
//
//   - global: Debian's log, chroot, user and group lines; master-worker mode
//     and an admin socket with "expose-fd listeners", so a reload (systemctl
//     reload, or SIGUSR2 to the master) hands the listening sockets to the new
//     worker and no connection is refused; Mozilla "intermediate" TLS
//     settings (TLS 1.2+, no session tickets, 2048-bit DH parameters).
//   - defaults: mode http, option httplog, option dontlognull, option
//     http-keep-alive (keep-alive to clients and servers), option
//     idle-close-on-response (a reload does not reset idle keep-alive
//     clients: the old worker answers their next request with "Connection:
//     close" instead of closing under them), http-reuse safe
//     (idle server connections are shared between requests when safe),
//     retries 3 with option redispatch 1 (every retry goes to another
//     server), retry-on conn-failure empty-response response-timeout 502 503
//     504 so a dying server does not fail requests (nginx in front of a dead
//     application answers 502); compression is off.
//   - every backend: http-request disable-l7-retry for methods other than
//     GET/HEAD, so a request that may have reached the application is never
//     sent twice (connection failures are still retried: the request never
//     left); only GET and HEAD are retried on a response or a timeout.
//   - every server: "check" (TCP connect checks, or HTTP checks when the
//     backend has a HealthCheck).
package haproxy

import "io/fs"

// Paths and modes on the host. The deployer writes ConfigPath with
// ConfigMode, and each File from Config.Files at its own path and mode.
const (
	// ConfigPath is where Debian's haproxy package reads its configuration.
	ConfigPath = "/etc/haproxy/haproxy.cfg"
	// ConfigMode is the mode of haproxy.cfg (owner root, group haproxy). The
	// file can hold the stats password, so it is not world-readable; HAProxy
	// reads it as root before dropping privileges.
	ConfigMode fs.FileMode = 0o640
	// FilesDir holds the support files this package renders (TLS bundles).
	// Everything in it is owned by the resource: files not listed by
	// Config.Files are stale and may be removed after a successful reload.
	FilesDir = "/etc/haproxy/foobar"
	// AdminSocket is the worker's admin socket rendered in the global
	// section (level admin, expose-fd listeners). "show info" on it reports
	// the serving worker's Pid, which changes on every reload.
	AdminSocket = "/run/haproxy/admin.sock"
	// StatsFrontendName is the name of the frontend rendered for Stats. No
	// user frontend may use it.
	StatsFrontendName = "stats"
	// PrometheusPath is the path on the stats listener that serves the
	// Prometheus exporter when Stats.Prometheus is set.
	PrometheusPath = "/metrics"
)

// Defaults applied by Render when the corresponding field is zero. The
// provider's schema descriptions quote them.
const (
	// DefaultMaxConn is the process-wide connection limit (global maxconn).
	// Each connection costs about 32 KiB of buffers, so 4096 stays near
	// 130 MiB at worst; raise it for busy sites.
	DefaultMaxConn = 4096
	// DefaultTimeoutConnect bounds the TCP connect to a server.
	DefaultTimeoutConnect = "5s"
	// DefaultTimeoutClient bounds client inactivity mid-request/response.
	DefaultTimeoutClient = "30s"
	// DefaultTimeoutServer bounds server inactivity (time to first byte and
	// between bytes of the response).
	DefaultTimeoutServer = "30s"
	// DefaultTimeoutHTTPRequest bounds the time a client may take to send a
	// complete request header (slowloris protection).
	DefaultTimeoutHTTPRequest = "10s"
	// DefaultTimeoutHTTPKeepAlive is how long an idle client keep-alive
	// connection waits for the next request.
	DefaultTimeoutHTTPKeepAlive = "10s"
	// DefaultTimeoutQueue bounds the time a request waits for a free server
	// slot when servers are at their maxconn.
	DefaultTimeoutQueue = "30s"
	// DefaultBalance is the load-balancing algorithm of a backend.
	DefaultBalance = "roundrobin"
	// DefaultTLSPort is the port of a frontend's TLS listener.
	DefaultTLSPort = 443
	// DefaultHealthCheckPath is the URI requested by HTTP health checks.
	DefaultHealthCheckPath = "/"
	// DefaultHealthCheckInterval is the time between two health checks of a
	// server (HAProxy's "inter").
	DefaultHealthCheckInterval = "2s"
	// DefaultHealthCheckRise is how many consecutive successful checks bring
	// a server back up.
	DefaultHealthCheckRise = 2
	// DefaultHealthCheckFall is how many consecutive failed checks take a
	// server down.
	DefaultHealthCheckFall = 3
	// DefaultStatsBind is the address of the stats listener: loopback only,
	// so the statistics page and the metrics are not public by default.
	DefaultStatsBind = "127.0.0.1"
	// DefaultStatsPort is the port of the stats listener.
	DefaultStatsPort = 8404
	// DefaultStatsURI is the path of the statistics page.
	DefaultStatsURI = "/stats"
	// DefaultStatsRefresh is the auto-refresh interval of the statistics page.
	DefaultStatsRefresh = "10s"
)

// Config is a whole load balancer: haproxy.cfg and the files it references.
//
// Attribute paths used in validation errors (the provider's schema uses the
// same names): maxconn, nbthread, hard_stop_after, timeouts, frontends,
// backends, stats. The JSON form (the Record on the host) uses them too.
type Config struct {
	// MaxConn is the process-wide limit of concurrent connections
	// (`maxconn`). 0 means DefaultMaxConn.
	MaxConn int `json:"maxconn,omitempty"`
	// NbThread is the number of worker threads (`nbthread`). 0 omits the
	// directive, so HAProxy starts one thread per CPU it may run on; the
	// deployer may instead set it from the host's detected cores. HAProxy
	// refuses values above its build's MAX_THREADS (64 on Debian's 2.6).
	NbThread int `json:"nbthread,omitempty"`
	// HardStopAfter (`hard_stop_after`, HAProxy time format) bounds how long
	// the old worker keeps serving its open connections after a reload.
	// Empty omits the directive: old workers live until their last
	// connection closes.
	HardStopAfter string `json:"hard_stop_after,omitempty"`
	// Timeouts (`timeouts`) apply to every frontend and backend unless
	// overridden there.
	Timeouts Timeouts `json:"timeouts,omitzero"`
	// Frontends (`frontends`) are the listeners that accept client traffic.
	// At least one is required.
	Frontends []Frontend `json:"frontends,omitempty"`
	// Backends (`backends`) are the pools of servers frontends route to.
	Backends []Backend `json:"backends,omitempty"`
	// Stats (`stats`), when set, adds a listener for the statistics page and
	// optionally the Prometheus exporter.
	Stats *Stats `json:"stats,omitempty"`
}

// Timeouts are the defaults-section timeouts, in HAProxy time format (a
// number with an optional unit ms, s, m, h or d; a plain number is
// milliseconds). An empty field takes its Default* value.
//
// Attributes: connect, client, server, http_request, http_keep_alive, queue.
type Timeouts struct {
	Connect       string `json:"connect,omitempty"`         // DefaultTimeoutConnect
	Client        string `json:"client,omitempty"`          // DefaultTimeoutClient
	Server        string `json:"server,omitempty"`          // DefaultTimeoutServer
	HTTPRequest   string `json:"http_request,omitempty"`    // DefaultTimeoutHTTPRequest
	HTTPKeepAlive string `json:"http_keep_alive,omitempty"` // DefaultTimeoutHTTPKeepAlive
	Queue         string `json:"queue,omitempty"`           // DefaultTimeoutQueue
}

// FrontendTimeouts override the client-side timeouts for one frontend. An
// empty field keeps the value from Config.Timeouts.
//
// Attributes: client, http_request, http_keep_alive.
type FrontendTimeouts struct {
	Client        string `json:"client,omitempty"`
	HTTPRequest   string `json:"http_request,omitempty"`
	HTTPKeepAlive string `json:"http_keep_alive,omitempty"`
}

// BackendTimeouts override the server-side timeouts for one backend. An
// empty field keeps the value from Config.Timeouts.
//
// Attributes: connect, server, queue.
type BackendTimeouts struct {
	Connect string `json:"connect,omitempty"`
	Server  string `json:"server,omitempty"`
	Queue   string `json:"queue,omitempty"`
}

// Frontend is one HTTP listener with its routing.
type Frontend struct {
	// Name (`name`) identifies the frontend in logs and statistics:
	// letters, digits, '_', '.', ':', '-', starting with a letter, digit or
	// '_'. StatsFrontendName is reserved.
	Name string `json:"name,omitempty"`
	// BindAddress (`bind_address`) is the local IP address to listen on.
	// Empty listens on all IPv4 addresses; "::" listens on all IPv6 and IPv4
	// addresses.
	BindAddress string `json:"bind_address,omitempty"`
	// Port (`port`) is the plain-HTTP port. 0 means no plain-HTTP listener,
	// which is allowed only when TLS is set.
	Port int `json:"port,omitempty"`
	// MaxConn (`maxconn`) limits concurrent connections on this frontend.
	// 0 omits the directive (the process-wide limit applies).
	MaxConn int `json:"maxconn,omitempty"`
	// TLS (`tls`), when set, adds an HTTPS listener (HTTP/2 and HTTP/1.1 by
	// ALPN) on the same address.
	TLS *TLS `json:"tls,omitempty"`
	// RedirectToHTTPS (`redirect_to_https`) answers plain-HTTP requests with
	// a 301 redirect to https. Requires TLS and Port. Provider default:
	// false.
	RedirectToHTTPS bool `json:"redirect_to_https,omitempty"`
	// HSTSMaxAge (`hsts_max_age`), in seconds, adds a
	// Strict-Transport-Security header to HTTPS responses. 0 adds none.
	// Requires TLS.
	HSTSMaxAge int `json:"hsts_max_age,omitempty"`
	// ForwardFor (`forward_for`) adds the client's address in an
	// X-Forwarded-For header (option forwardfor). Provider default: true.
	ForwardFor bool `json:"forward_for,omitempty"`
	// ForwardedProto (`forwarded_proto`) sets X-Forwarded-Proto to http or
	// https. Provider default: true.
	ForwardedProto bool `json:"forwarded_proto,omitempty"`
	// Timeouts (`timeouts`) override the client-side timeouts.
	Timeouts FrontendTimeouts `json:"timeouts,omitzero"`
	// Rules (`rules`) route requests to backends; the first matching rule
	// wins.
	Rules []Rule `json:"rules,omitempty"`
	// DefaultBackend (`default_backend`) receives requests no rule matched.
	// A frontend needs a default backend, rules, or both.
	DefaultBackend string `json:"default_backend,omitempty"`
}

// TLS is the certificate of a frontend's HTTPS listener. The certificate and
// key are written together as one PEM file (see Config.Files, mode 0600).
type TLS struct {
	// Port (`port`) of the HTTPS listener. 0 means DefaultTLSPort.
	Port int `json:"port,omitempty"`
	// CertificatePEM (`certificate_pem`) is the server certificate,
	// optionally followed by its intermediate chain, PEM encoded.
	CertificatePEM string `json:"certificate_pem,omitempty"`
	// PrivateKeyPEM (`private_key_pem`, sensitive) is the certificate's
	// private key, PEM encoded.
	PrivateKeyPEM string `json:"private_key_pem,omitempty"`
}

// Rule routes a request to Backend when every condition set matches (at
// least one must be set).
//
// Attributes: host, path_prefix, backend.
type Rule struct {
	// Host matches the Host header (case-insensitive, port ignored) exactly.
	Host string `json:"host,omitempty"`
	// PathPrefix matches requests whose path begins with it.
	PathPrefix string `json:"path_prefix,omitempty"`
	// Backend is the name of the backend that serves matching requests.
	Backend string `json:"backend,omitempty"`
}

// Backend is a pool of servers.
type Backend struct {
	// Name (`name`), same alphabet as Frontend.Name.
	Name string `json:"name,omitempty"`
	// Balance (`balance`) is the load-balancing algorithm: roundrobin,
	// static-rr, leastconn, first, source, uri, random, "url_param NAME",
	// "hdr(NAME)", rdp-cookie or "rdp-cookie(NAME)". Empty means
	// DefaultBalance (roundrobin).
	Balance string `json:"balance,omitempty"`
	// Servers (`servers`); at least one is required.
	Servers []Server `json:"servers,omitempty"`
	// HealthCheck (`health_check`), when set, makes server checks HTTP
	// requests; without it servers get TCP connect checks.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// StickyCookie (`sticky_cookie`), when set, is the name of a cookie
	// HAProxy inserts to keep a client on the same server (cookie NAME
	// insert indirect nocache httponly). Empty disables stickiness.
	StickyCookie string `json:"sticky_cookie,omitempty"`
	// Timeouts (`timeouts`) override the server-side timeouts.
	Timeouts BackendTimeouts `json:"timeouts,omitzero"`
	// TLS (`tls`), when set, makes the connections to every server of the
	// backend, and their health checks, TLS with the server's certificate
	// verified against a CA and a name.
	TLS *BackendTLS `json:"tls,omitempty"`
}

// BackendTLS is TLS from HAProxy to a backend's servers, verified: every
// server line gets "ssl verify required ca-file <CA file> sni
// str(<ServerName>) check-sni <ServerName> verifyhost <ServerName>". With
// "ssl" on the server line HAProxy sends the health checks over the same
// TLS (no "port" or "addr" on the check), so a server whose certificate
// does not verify is marked DOWN by its checks, not only refused by
// requests. The CA is written to a file under FilesDir (see Config.Files).
type BackendTLS struct {
	// CAPEM (`ca_pem`) is one or more PEM CA certificates a server's
	// certificate must chain to.
	CAPEM string `json:"ca_pem,omitempty"`
	// ServerName (`server_name`) is the host name sent as SNI and that the
	// server's certificate must name (a DNS name of its subjectAltName).
	ServerName string `json:"server_name,omitempty"`
}

// Server is one member of a backend.
type Server struct {
	// Name (`name`), same alphabet as Frontend.Name, unique in its backend.
	// With a sticky cookie it is also the cookie value.
	Name string `json:"name,omitempty"`
	// Address (`address`) is an IPv4 or IPv6 address or a hostname
	// (resolved by HAProxy when it starts or reloads).
	Address string `json:"address,omitempty"`
	// Port (`port`) the server listens on.
	Port int `json:"port,omitempty"`
	// Weight (`weight`, 0-256) is the server's share of the traffic
	// relative to the others. nil omits it (HAProxy's default is 1); 0
	// sends the server no new traffic.
	Weight *int `json:"weight,omitempty"`
	// Backup (`backup`) servers get traffic only when no other server is up.
	Backup bool `json:"backup,omitempty"`
	// MaxConn (`maxconn`) caps concurrent connections to this server; extra
	// requests wait in the queue. 0 means no limit.
	MaxConn int `json:"maxconn,omitempty"`
	// Disabled (`disabled`) starts the server in maintenance: no traffic and
	// no health checks.
	Disabled bool `json:"disabled,omitempty"`
}

// HealthCheck makes a backend's server checks HTTP requests:
// option httpchk, http-check send meth GET uri PATH, http-check expect.
type HealthCheck struct {
	// Path (`path`) is the request URI (a path, optionally with a query).
	// Empty means DefaultHealthCheckPath.
	Path string `json:"path,omitempty"`
	// Host (`host`), when set, is sent as the Host header (the request then
	// uses HTTP/1.1); without it the check is an HTTP/1.0 request.
	Host string `json:"host,omitempty"`
	// ExpectStatus (`expect_status`) is the only status accepted as
	// healthy. 0 accepts any 2xx or 3xx status.
	ExpectStatus int `json:"expect_status,omitempty"`
	// Interval (`interval`), HAProxy time format, between two checks.
	// Empty means DefaultHealthCheckInterval.
	Interval string `json:"interval,omitempty"`
	// Rise (`rise`): consecutive successes to mark a server up. 0 means
	// DefaultHealthCheckRise.
	Rise int `json:"rise,omitempty"`
	// Fall (`fall`): consecutive failures to mark a server down. 0 means
	// DefaultHealthCheckFall.
	Fall int `json:"fall,omitempty"`
	// ErrorLimit (`error_limit`), when not 0, also watches the servers'
	// answers to real traffic: that many consecutive errors (5xx other than
	// 501 and 505, or no valid answer) mark a server DOWN at once, without
	// waiting for fall × interval (`observe layer7 error-limit N on-error
	// mark-down`); it comes back up by its health check (rise). 0 leaves
	// the health check alone in charge.
	ErrorLimit int `json:"error_limit,omitempty"`
}

// Stats is the statistics listener (frontend StatsFrontendName).
type Stats struct {
	// BindAddress (`bind_address`) of the stats listener, an IP address.
	// Empty means DefaultStatsBind (loopback only); "::" means all IPv6 and
	// IPv4 addresses.
	BindAddress string `json:"bind_address,omitempty"`
	// Port (`port`). 0 means DefaultStatsPort.
	Port int `json:"port,omitempty"`
	// URI (`uri`) of the statistics page. Empty means DefaultStatsURI.
	URI string `json:"uri,omitempty"`
	// User and Password (`user`, `password` (sensitive)) protect the
	// statistics page with HTTP basic authentication (stats auth); set both
	// or neither. The Prometheus endpoint is not protected by them.
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	// Refresh (`refresh`), HAProxy time format, is the page's auto-refresh
	// interval. Empty means DefaultStatsRefresh.
	Refresh string `json:"refresh,omitempty"`
	// Prometheus (`prometheus`) serves HAProxy's built-in Prometheus
	// exporter at PrometheusPath on the stats listener. HAProxy must be
	// built with it (Debian's 2.6 and 3.0 are; see HasPrometheusExporter).
	Prometheus bool `json:"prometheus,omitempty"`
}

// File is a support file the configuration references. The deployer writes
// it before validating the configuration that names it.
type File struct {
	// Path is absolute, under FilesDir.
	Path string
	// Content is the exact bytes to write.
	Content []byte
	// Mode is the file's permission bits (owner root).
	Mode fs.FileMode
	// Sensitive marks content that must never be logged or shown in a diff
	// (it holds a private key).
	Sensitive bool
}
