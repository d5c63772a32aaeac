# www.foobar.com: HAProxy on lb1 spreads HTTPS traffic over two web servers
# (round robin, active-active), sends /api/ to an API pool, and offers a
# statistics page and Prometheus metrics on a private address.

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
      servers = [
        { name = "web1", address = "10.0.0.21", port = 80 },
        { name = "web2", address = "10.0.0.22", port = 80 },
      ]
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
