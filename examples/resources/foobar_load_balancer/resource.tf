# www.foobar.com: HAProxy on lb1 spreads HTTPS traffic over two web servers
# (round robin, active-active, over verified TLS to the servers too), sends
# /api/ to an API pool, and offers a statistics page and Prometheus metrics
# on a private address.

variable "tls_private_key" {
  type      = string
  sensitive = true
}

variable "stats_password" {
  type      = string
  sensitive = true
}

resource "foobar_load_balancer" "www" {
  ssh = {
    host = "10.0.0.11"
  }

  frontends = [{
    name = "www"
    port = 80
    tls = {
      certificate_pem = file("${path.module}/www.foobar.com.crt")
      # Write-only (Terraform 1.11 or newer): the key never reaches the
      # state. Bump the version to apply a new key. With an older
      # Terraform use private_key_pem (sensitive, kept in the state).
      private_key_pem_wo         = var.tls_private_key
      private_key_pem_wo_version = 1
    }
    redirect_to_https = true
    hsts_max_age      = 31536000

    rules = [
      { path_prefix = "/api/", backend = "api" },
    ]
    default_backend = "web"
  }]

  backends = [
    {
      name = "web"
      # HTTPS to the web servers too (each foobar_web_server has a tls
      # listener on 443 with a certificate for web.internal.foobar.com
      # from the internal CA): the certificate must chain to ca_pem and
      # name server_name, and the health checks use the same TLS, so a
      # server that fails verification is DOWN and gets no traffic.
      servers = [
        { name = "web1", address = "10.0.0.21", port = 443 },
        { name = "web2", address = "10.0.0.22", port = 443 },
      ]
      tls = {
        ca_pem      = file("${path.module}/internal-ca.crt")
        server_name = "web.internal.foobar.com"
      }
      health_check = {
        path          = "/"
        expect_status = 200
        interval      = "2s"
        fall          = 3
      }
    },
    {
      name    = "api"
      balance = "leastconn"
      servers = [
        { name = "web1", address = "10.0.0.21", port = 8080 },
        { name = "web2", address = "10.0.0.22", port = 8080 },
      ]
      health_check = {
        path = "/healthz"
        # Two 5xx answers in a row to real requests (the application died
        # behind Nginx, which answers 502) take a server out at once.
        error_limit = 2
      }
      timeouts = {
        server = "60s"
      }
    },
  ]

  stats = {
    bind_address        = "10.0.0.11"
    user                = "admin"
    password_wo         = var.stats_password
    password_wo_version = 1
    prometheus          = true
  }
}

# The exact haproxy.cfg on the host (the stats password shown as
# <sensitive>); terraform plan shows its diff line by line.
output "haproxy_cfg" {
  value = foobar_load_balancer.www.rendered_config
}

# A pair: the same HAProxy configuration on lb1 and lb2 behind one virtual
# address (keepalived, VRRPv3 with unicast adverts). Point DNS at
# 10.0.0.10. One resource per member; each names the other as its peer.
locals {
  lb_members = {
    lb1 = { address = "10.0.0.11", priority = 150 }
    lb2 = { address = "10.0.0.12", priority = 100 }
  }
}

resource "foobar_load_balancer" "pair" {
  for_each = local.lb_members

  ssh = {
    host = each.value.address
  }

  # Identical on every member: take them from one place.
  frontends = [{ name = "www", port = 80, default_backend = "web" }]
  backends = [{
    name = "web"
    servers = [
      { name = "web1", address = "10.0.0.21", port = 80 },
      { name = "web2", address = "10.0.0.22", port = 80 },
    ]
    health_check = { path = "/" }
  }]

  high_availability = {
    virtual_ip        = "10.0.0.10/24"
    virtual_router_id = 51
    priority          = each.value.priority
    peers             = [for name, m in local.lb_members : m.address if name != each.key]
    # preempt = false (the default): the address stays where it is after
    # a failover, it does not flap back when lb1 returns.
  }
}

# Which member holds the address (as of the last refresh).
output "vip_holder" {
  value = [for name, lb in foobar_load_balancer.pair : name if lb.holds_virtual_ip]
}
