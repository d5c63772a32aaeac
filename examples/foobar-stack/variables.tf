variable "domain" {
  type        = string
  default     = "www.foobar.com"
  description = "The site's name: Nginx's server name and the DNS record to create."
}

# How to reach the hosts (provider defaults; every resource may override them).
variable "ssh_user" {
  type        = string
  description = "Login user on every host (sudo is used when it is not root)."
}

variable "private_key_file" {
  type        = string
  description = "Private key of that user."
}

variable "known_hosts_file" {
  type        = string
  description = "known_hosts file that lists every host's keys (host keys are always verified)."
}

# The hosts of the design: a load balancer (or a pair behind a virtual
# address), two web servers, a database primary and its replicas.
variable "lb_host" {
  type        = string
  description = "Address of the (first) load balancer, lb1. Without virtual_ip the DNS record points here."
}

variable "lb_peer_hosts" {
  type        = list(string)
  default     = []
  description = "Addresses of more load balancers (lb2, ...), with the same HAProxy configuration; they need virtual_ip."
}

variable "virtual_ip" {
  type        = string
  default     = null
  description = "The address the DNS record points at, with its prefix (\"10.0.0.10/24\"), held by one load balancer at a time (keepalived, VRRPv3). It must be free, in the load balancers' network."
}

variable "lb_interface" {
  type        = string
  default     = "eth0"
  description = "The load balancers' network interface that carries the virtual address (`ip -o addr` on the hosts shows it; Debian names it ens3, enp1s0... on most machines)."
}

variable "virtual_router_id" {
  type        = number
  default     = 51
  description = "VRRP router id of the load balancer group (1-255), unique among the groups on that network."
}

variable "web1_host" {
  type        = string
  description = "Address of the first web server."
}

variable "web2_host" {
  type        = string
  description = "Address of the second web server."
}

variable "db_primary_host" {
  type        = string
  description = "Address of the database primary (takes every write)."
}

variable "db_replica_hosts" {
  type        = list(string)
  description = "Addresses of the database replicas (serve reads)."
}

variable "app_network" {
  type        = string
  description = "MySQL host pattern the application connects from, for example \"10.0.0.%\"."
}

# What to deploy.
variable "app_artifact" {
  type        = string
  default     = null
  description = "Path of the application binary for linux/amd64 (`make app` builds it). Default: build/foobar-app next to this file."
}

variable "site_dir" {
  type        = string
  default     = null
  description = "Directory of static files to publish. Default: public/ next to this file."
}

# Secrets. They are sensitive, so Terraform never prints them; with Terraform
# 1.11 or newer, the *_wo arguments of the resources keep them out of the
# state as well (see the resources' documentation).
variable "db_app_password" {
  type        = string
  sensitive   = true
  description = "Password of the application's database user."
}

variable "replication_password" {
  type        = string
  sensitive   = true
  description = "Password of the replication user."
}

variable "exporter_mysql_password" {
  type        = string
  sensitive   = true
  description = "Password of the mysqld exporter's least-privilege MySQL account on each database member."
  validation {
    condition     = can(regex("^[!$-&(-\\[\\]-_a-~]{12,100}$", var.exporter_mysql_password))
    error_message = "exporter_mysql_password must be 12 to 100 printable ASCII characters without quotes, backslash, '#' or spaces (it goes into the exporter's option file)."
  }
}

variable "stats_password" {
  type        = string
  sensitive   = true
  description = "Password of HAProxy's statistics page (user admin)."
}

variable "admin_sources" {
  type        = list(string)
  description = "Where operators, Terraform and monitoring connect from (addresses or CIDR networks): the only sources that may reach SSH on every host and the load balancers' statistics port. Every host's firewall drops everything else that no service of the stack needs."
  validation {
    condition     = length(var.admin_sources) > 0
    error_message = "admin_sources must name at least one address or network, or the firewall would refuse Terraform's own SSH connections (the host would then roll the rules back)."
  }
}

variable "monitoring_sources" {
  type        = list(string)
  description = "Where Prometheus scrapes from (addresses or CIDR networks): the only sources that may reach the exporters (node 9100, nginx 9113, mysqld 9104) and the load balancers' statistics port (HAProxy's metrics, 8404)."
  validation {
    condition     = length(var.monitoring_sources) > 0
    error_message = "monitoring_sources must name at least one address or network: the firewalls open the exporters' ports to these sources only."
  }
}

# TLS behind the load balancer: an internal CA of the stack's own and two
# server certificates it signed. The hashicorp/tls provider or the
# organisation's PKI can make them; with openssl (a CA valid 10 years, the
# certificates 1 year; the default names and lab addresses as examples):
#
#   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
#     -subj "/CN=foobar internal CA" -keyout ca.key -out ca.crt
#   openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=web.foobar.internal" \
#     -keyout web.key -out web.csr
#   openssl x509 -req -in web.csr -CA ca.crt -CAkey ca.key -days 365 -out web.crt \
#     -extfile <(printf 'subjectAltName=DNS:web.foobar.internal\nextendedKeyUsage=serverAuth\n')
#   openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=foobar database" \
#     -keyout db.key -out db.csr
#   openssl x509 -req -in db.csr -CA ca.crt -CAkey ca.key -days 365 -out db.crt \
#     -extfile <(printf 'subjectAltName=IP:10.0.0.31,IP:10.0.0.32\nextendedKeyUsage=serverAuth\n')
#
# then, for example, in a tfvars file (keep it root-only):
#   internal_tls = { ca_pem = file("ca.crt"), web_cert_pem = ..., ... } (or
#   jq -n --rawfile ca ca.crt ... '{internal_tls: {ca_pem: $ca, ...}}' > tls.auto.tfvars.json)
variable "internal_tls" {
  type = object({
    # The internal CA's certificate, PEM: what the load balancers, the
    # application and the replicas trust.
    ca_pem = string
    # The web servers' certificate (both serve it on their HTTPS port) and
    # its key. Its subject alternative names must hold web_tls_name (a DNS
    # name): the load balancers send it as SNI and verify it.
    web_cert_pem = string
    web_key_pem  = string
    # The database members' certificate (every member serves it) and its
    # key. Its subject alternative names must name every member as the
    # stack addresses it: db_primary_host and each of db_replica_hosts (IP
    # SANs for addresses, DNS names for names), since the application and
    # the replicas verify the server's certificate against that address.
    db_cert_pem = string
    db_key_pem  = string
  })
  sensitive   = true
  description = "The internal CA and the web servers' and database members' certificates and keys (PEM), for TLS on every hop behind the load balancer: HAProxy -> Nginx, application -> databases, replication. Sensitive for the keys; the certificates are public."
}

variable "web_tls_name" {
  type        = string
  default     = "web.foobar.internal"
  description = "The name the web servers' certificate holds (internal_tls.web_cert_pem): the load balancers send it as SNI and require it in the certificate."
}
