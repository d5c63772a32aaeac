# Each host's inbound firewall: SSH only from the operators' network, and
# each service's port only from the hosts that use it, by reference.

variable "admin_sources" {
  description = "Where operators (and Terraform) connect from."
  type        = list(string)
  default     = ["10.0.0.0/28"]
}

# The database: MariaDB only from the web servers.
resource "foobar_firewall" "db1" {
  ssh = {
    host = foobar_mysql_cluster.db.primary.ssh.host
  }
  admin_sources = var.admin_sources
  allow = [
    {
      port = 3306
      from = [
        foobar_web_server.web1.ssh.host,
        foobar_web_server.web2.ssh.host,
      ]
    },
  ]
}

# A web server: HTTP only from the load balancer.
resource "foobar_firewall" "web1" {
  ssh = {
    host = foobar_web_server.web1.ssh.host
  }
  admin_sources = var.admin_sources
  allow = [
    { port = 80, from = [foobar_load_balancer.www.ssh.host] },
  ]
  # The host puts the previous rules back unless a new SSH connection
  # confirms the change within this time.
  confirm_timeout = "60s"
}

# The load balancer: HTTP and HTTPS from anywhere (IPv4 and IPv6).
resource "foobar_firewall" "lb1" {
  ssh = {
    host = foobar_load_balancer.www.ssh.host
  }
  admin_sources = var.admin_sources
  allow = [
    { port = 80, from = ["0.0.0.0/0", "::/0"] },
    { port = 443, from = ["0.0.0.0/0", "::/0"] },
  ]
}
