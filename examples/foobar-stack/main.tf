# www.foobar.com: the three-server web infrastructure.
#
#   DNS A record -> the virtual address, held by lb1 or lb2 (keepalived;
#                   HAProxy on both, round robin over both web servers;
#                   with no virtual_ip, one load balancer and its address)
#                     -> web1, web2 (Nginx: static files; /api and the rest
#                        -> the application server on loopback)
#                          -> writes: database primary, reads: replica(s)
#
# Everything is wired by references: the web servers' addresses feed the
# load balancer's backends, the cluster's writer and reader endpoints feed
# the application's environment, and each host's firewall opens its
# service only to the hosts that use it.
#
# Every hop behind the load balancer runs TLS with the peer's certificate
# verified against the stack's internal CA (var.internal_tls): HAProxy ->
# Nginx (verify required, health checks included), the application -> the
# databases (its account requires TLS; the application verifies the
# server's certificate and address), and replication (the replica verifies
# the primary's certificate and address).

provider "foobar" {
  user             = var.ssh_user
  private_key_file = var.private_key_file
  known_hosts_file = var.known_hosts_file
  agent            = false
}

locals {
  app_artifact = coalesce(var.app_artifact, "${path.module}/build/foobar-app")
  site_dir     = coalesce(var.site_dir, "${path.module}/public")
  app_binary   = "/opt/foobar/app/bin/foobar-app"

  # The load balancers: lb_host, then the peers. With a virtual_ip they
  # form a keepalived group that moves the address to a member whose HAProxy
  # answers; the first has the highest priority.
  lb_members   = concat([var.lb_host], var.lb_peer_hosts)
  site_address = coalesce(var.virtual_ip == null ? null : split("/", var.virtual_ip)[0], var.lb_host)

  # The application's configuration, shared by both web servers. Secrets go
  # to secret_environment: a root-only file on the host, never argv or logs.
  app_environment = {
    APP_LISTEN = "127.0.0.1:8080"
    DB_WRITER  = foobar_mysql_cluster.db.writer_endpoint
    DB_READERS = join(",", foobar_mysql_cluster.db.reader_endpoints)
    DB_NAME    = "foobar"
    DB_USER    = "foobar_app"
    # TLS to every database member, the server's certificate verified
    # against the internal CA and the member's address.
    DB_TLS_CA = base64encode(local.internal_ca_pem)
  }

  # The load balancers' health check of the web servers. The web servers'
  # drain uses the same values: before an application restarts, its web
  # server answers 503 on /healthz for long enough that every load balancer
  # has taken it out, and comes back only once healthy.
  health_check = { interval = "2s", rise = 2, fall = 2 }

  # The internal CA and the web servers' and databases' certificates. The
  # certificates and the CA are public (nonsensitive, so that plans show
  # them); the keys stay sensitive. The load balancers verify that the web
  # servers' certificate names web_tls_name; the database members'
  # certificate names every member's address.
  internal_ca_pem = nonsensitive(var.internal_tls.ca_pem)
  web_tls = {
    certificate_pem = nonsensitive(var.internal_tls.web_cert_pem)
    private_key_pem = var.internal_tls.web_key_pem
    port            = 443
  }
}

# The database: a primary that takes the writes and replicas that serve the
# reads, replicated by GTID over verified TLS. The application's user may
# connect from the web servers' network, over TLS only.
resource "foobar_mysql_cluster" "db" {
  primary  = { ssh = { host = var.db_primary_host } }
  replicas = [for h in var.db_replica_hosts : { ssh = { host = h } }]

  replication_user     = "repl"
  replication_password = var.replication_password

  # Every member serves the same certificate (its subject alternative
  # names list every member's address); each replica checks the primary's
  # against the internal CA and the primary's address.
  server_tls = {
    cert_pem = nonsensitive(var.internal_tls.db_cert_pem)
    key_pem  = var.internal_tls.db_key_pem
  }
  replication_tls = {
    ca_pem             = local.internal_ca_pem
    verify_server_cert = true
  }

  databases = [{ name = "foobar" }]
  users = [{
    name        = "foobar_app"
    host        = var.app_network
    password    = var.db_app_password
    require_ssl = true # connections without TLS are refused
    database    = "foobar"
    privileges  = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "INDEX", "ALTER"]
  }]
}

# The web servers. Each serves /static/ from disk and sends everything else to
# the application. web2 depends on web1, so a change to both is applied one
# server at a time: web1 is updated and healthy (its application's /healthz
# answers) before web2 is touched, and the load balancer keeps sending
# requests to whichever one is up. With drain, a server leaves the rotation
# before its application restarts, so no request fails during a deploy.
resource "foobar_web_server" "web1" {
  ssh = { host = var.web1_host }

  name                 = "foobar"
  server_names         = [var.domain]
  listen_port          = 80
  default_server       = true
  disable_default_site = true
  # HTTPS for the load balancers (the certificate names web_tls_name); the
  # plain listener stays for the host itself, the firewall does not open it.
  tls = local.web_tls
  drain = {
    health_check_interval = local.health_check.interval
    rise                  = local.health_check.rise
    fall                  = local.health_check.fall
  }

  document_root    = "/srv/www/foobar"
  source_dir       = local.site_dir
  static_locations = [{ url_prefix = "/static/", expires = "1h" }]

  app = {
    artifact_source    = local.app_artifact
    artifact_path      = local.app_binary
    command            = [local.app_binary]
    port               = 8080
    user               = "foobar"
    environment        = local.app_environment
    secret_environment = { DB_PASSWORD = var.db_app_password }
    health_check_path  = "/healthz"
  }
}

resource "foobar_web_server" "web2" {
  ssh = { host = var.web2_host }

  name                 = "foobar"
  server_names         = [var.domain]
  listen_port          = 80
  default_server       = true
  disable_default_site = true
  # HTTPS for the load balancers (the certificate names web_tls_name); the
  # plain listener stays for the host itself, the firewall does not open it.
  tls = local.web_tls
  drain = {
    health_check_interval = local.health_check.interval
    rise                  = local.health_check.rise
    fall                  = local.health_check.fall
  }

  document_root    = "/srv/www/foobar"
  source_dir       = local.site_dir
  static_locations = [{ url_prefix = "/static/", expires = "1h" }]

  app = {
    artifact_source    = local.app_artifact
    artifact_path      = local.app_binary
    command            = [local.app_binary]
    port               = 8080
    user               = "foobar"
    environment        = local.app_environment
    secret_environment = { DB_PASSWORD = var.db_app_password }
    health_check_path  = "/healthz"
  }

  # Rolling changes: one web server at a time.
  depends_on = [foobar_web_server.web1]
}

# The load balancers: round robin over both web servers (active-active),
# over TLS to their HTTPS port, each server's certificate verified against
# the internal CA and web_tls_name (a server whose certificate does not
# verify is DOWN), health-checked through Nginx and the application over
# the same TLS, so a failing server is taken out of rotation within fall x
# interval. Every member gets the same HAProxy configuration; with a
# virtual_ip, keepalived keeps the address on one member whose HAProxy
# answers.
resource "foobar_load_balancer" "lb" {
  count = length(local.lb_members)
  ssh   = { host = local.lb_members[count.index] }

  high_availability = var.virtual_ip == null ? null : {
    virtual_ip        = var.virtual_ip
    virtual_router_id = var.virtual_router_id
    interface         = var.lb_interface
    priority          = count.index == 0 ? 150 : 100
    peers             = [for i, h in local.lb_members : h if i != count.index]
  }

  lifecycle {
    precondition {
      condition     = (var.virtual_ip == null) == (length(var.lb_peer_hosts) == 0)
      error_message = "Set virtual_ip and lb_peer_hosts together: a virtual address needs two or more load balancers, and more load balancers need the address that moves between them."
    }
  }

  frontends = [{
    name            = "www"
    port            = 80
    default_backend = "web"
  }]

  backends = [{
    name    = "web"
    balance = "roundrobin"
    servers = [
      { name = "web1", address = foobar_web_server.web1.ssh.host, port = foobar_web_server.web1.tls.port },
      { name = "web2", address = foobar_web_server.web2.ssh.host, port = foobar_web_server.web2.tls.port },
    ]
    tls = {
      ca_pem      = local.internal_ca_pem
      server_name = var.web_tls_name
    }
    health_check = {
      path     = "/healthz"
      host     = var.domain
      interval = local.health_check.interval
      rise     = local.health_check.rise
      fall     = local.health_check.fall
    }
  }]

  stats = {
    bind_address = local.lb_members[count.index]
    port         = 8404
    user         = "admin"
    password     = var.stats_password
    prometheus   = true
  }
}

# Before the pair, the stack had one load balancer at this address.
moved {
  from = foobar_load_balancer.lb
  to   = foobar_load_balancer.lb[0]
}

# Every host's inbound firewall (nftables, a table of the provider's own;
# Docker's and an operator's rules are left alone): SSH only from
# admin_sources, each service's port only from the hosts that use it, by
# reference, everything else dropped. A change that would cut Terraform's own
# access is undone by the host itself (commit confirmed over a new SSH
# connection).
locals {
  web_hosts     = [foobar_web_server.web1.ssh.host, foobar_web_server.web2.ssh.host]
  web_tls_ports = [foobar_web_server.web1.tls.port, foobar_web_server.web2.tls.port]
  db_hosts      = concat([foobar_mysql_cluster.db.primary.ssh.host], [for r in foobar_mysql_cluster.db.replicas : r.ssh.host])
}

# The load balancers: HTTP from anywhere, statistics (and Prometheus
# metrics) from admin_sources and monitoring_sources, the node exporter from
# monitoring_sources, VRRP adverts from the other members.
resource "foobar_firewall" "lb" {
  count = length(foobar_load_balancer.lb)
  ssh   = { host = foobar_load_balancer.lb[count.index].ssh.host }

  admin_sources = var.admin_sources
  allow = concat(
    [
      { port = 80, from = ["0.0.0.0/0", "::/0"] },
      { port = 8404, from = distinct(concat(var.admin_sources, var.monitoring_sources)) },
      { port = local.exporter_ports.node, from = var.monitoring_sources },
    ],
    [for i, h in local.lb_members : { protocol = "vrrp", from = [h] } if i != count.index],
  )
}

# The web servers: HTTPS only from the load balancers (their health checks
# and the traffic they forward; plain HTTP from nobody), the exporters only
# from monitoring_sources.
resource "foobar_firewall" "web" {
  count = length(local.web_hosts)
  ssh   = { host = local.web_hosts[count.index] }

  admin_sources = var.admin_sources
  allow = concat(
    [{ port = local.web_tls_ports[count.index], from = local.lb_members }],
    [for kind in ["node", "nginx"] : { port = local.exporter_ports[kind], from = var.monitoring_sources }],
  )
}

# The databases: MySQL only from the web servers (the application) and the
# other members (replication, which may run either way after a switchover),
# the exporters only from monitoring_sources.
resource "foobar_firewall" "db" {
  count = length(local.db_hosts)
  ssh   = { host = local.db_hosts[count.index] }

  admin_sources = var.admin_sources
  allow = concat(
    [{
      port = 3306
      from = concat(local.web_hosts, [for i, h in local.db_hosts : h if i != count.index])
    }],
    [for kind in ["node", "mysqld"] : { port = local.exporter_ports[kind], from = var.monitoring_sources }],
  )
}

# Monitoring: Prometheus exporters from Debian's packages, each bound to its
# host's own address (the firewalls above open their ports to
# monitoring_sources only): the node exporter on every host, Nginx's on each
# web server, mysqld's on each database member. HAProxy serves its own
# metrics (stats.prometheus, on the statistics port). The scrape_targets
# output lists them all for Prometheus (monitoring/prometheus.yml), with the
# alerting rules in monitoring/alerts.yml.
locals {
  exporter_ports = { node = 9100, nginx = 9113, mysqld = 9104 }

  # Every host with the name its metrics carry (label host): lb1 is lb_host,
  # lb2... its peers; db1 the primary, db2... the replicas.
  lbs_named  = [for i, h in local.lb_members : { name = "lb${i + 1}", host = h }]
  webs_named = [for i, h in local.web_hosts : { name = "web${i + 1}", host = h }]
  dbs_named  = [for i, h in local.db_hosts : { name = "db${i + 1}", host = h }]
  all_named  = concat(local.lbs_named, local.webs_named, local.dbs_named)
}

resource "foobar_exporter" "node" {
  count = length(local.all_named)
  ssh   = { host = local.all_named[count.index].host }

  kind   = "node"
  listen = "${local.all_named[count.index].host}:${local.exporter_ports.node}"
}

# Nginx's exporter reads stub_status from a loopback-only server that the
# resource adds to the web server's Nginx.
resource "foobar_exporter" "nginx" {
  count = length(local.webs_named)
  ssh   = { host = local.webs_named[count.index].host }

  kind   = "nginx"
  listen = "${local.webs_named[count.index].host}:${local.exporter_ports.nginx}"
}

# mysqld's exporter logs in as a least-privilege account that the resource
# creates on each member's own server, once the cluster is built.
resource "foobar_exporter" "mysqld" {
  count = length(local.dbs_named)
  ssh   = { host = local.dbs_named[count.index].host }

  kind           = "mysqld"
  listen         = "${local.dbs_named[count.index].host}:${local.exporter_ports.mysqld}"
  mysql_password = var.exporter_mysql_password

  depends_on = [foobar_mysql_cluster.db]
}
