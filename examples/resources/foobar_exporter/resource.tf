# Prometheus exporters from Debian's packages, each on the host's private
# address, and the firewall opening their ports to the monitoring servers only.

variable "monitoring_sources" {
  description = "The Prometheus servers that scrape the exporters."
  type        = list(string)
  default     = ["10.0.0.5"]
}

# The node exporter on every host (here a web server).
resource "foobar_exporter" "web1_node" {
  ssh = {
    host = foobar_web_server.web1.ssh.host
  }
  kind   = "node"
  listen = "${foobar_web_server.web1.ssh.host}:9100"
}

# Nginx's exporter: it reads stub_status from a loopback-only server that
# the resource adds (127.0.0.1:8405 unless stub_status_port says otherwise).
resource "foobar_exporter" "web1_nginx" {
  ssh = {
    host = foobar_web_server.web1.ssh.host
  }
  kind   = "nginx"
  listen = "${foobar_web_server.web1.ssh.host}:9113"
}

resource "foobar_firewall" "web1" {
  ssh = {
    host = foobar_web_server.web1.ssh.host
  }
  admin_sources = ["10.0.0.0/28"]
  allow = [
    { port = 80, from = [foobar_load_balancer.lb.ssh.host] },
    { port = 9100, from = var.monitoring_sources },
    { port = 9113, from = var.monitoring_sources },
  ]
}

# The mysqld exporter on each database server, with a least-privilege
# account (PROCESS, replication status, SELECT on performance_schema) that
# the resource creates on that server; the password reaches the host only
# in the exporter's 0600 credentials file.
variable "exporter_mysql_password" {
  type      = string
  sensitive = true
}

resource "foobar_exporter" "db1_mysqld" {
  ssh = {
    host = foobar_mysql_cluster.db.primary.ssh.host
  }
  kind           = "mysqld"
  listen         = "${foobar_mysql_cluster.db.primary.ssh.host}:9104"
  mysql_password = var.exporter_mysql_password
}

# Prometheus' file_sd targets, one group per job (HAProxy's built-in
# exporter is foobar_load_balancer's stats.prometheus, at <stats address>:<port>/metrics).
output "scrape_targets" {
  value = jsonencode([
    { targets = [foobar_exporter.web1_node.scrape_target], labels = { job = "node", host = "web1" } },
    { targets = [foobar_exporter.web1_nginx.scrape_target], labels = { job = "nginx", host = "web1" } },
    { targets = [foobar_exporter.db1_mysqld.scrape_target], labels = { job = "mysqld", host = "db1" } },
  ])
}
