# One web node of the www.foobar.com stack: Nginx serves /static/ from disk
# and proxies everything else to the application server on loopback.
variable "db_password" {
  type      = string
  sensitive = true
}

variable "web_tls_private_key" {
  type      = string
  sensitive = true
}

resource "foobar_web_server" "web1" {
  ssh = {
    host = "10.0.0.21"
  }

  name                 = "shop"
  server_names         = ["www.foobar.com", "foobar.com"]
  listen_port          = 80
  default_server       = true
  disable_default_site = true

  # HTTPS for the hop from the load balancer: a certificate for
  # web.internal.foobar.com from the internal CA, which
  # foobar_load_balancer verifies (its backend's tls block: ca_pem and
  # server_name). The key is written root-only (mode 0600).
  tls = {
    certificate_pem            = file("${path.module}/web1.internal.crt")
    private_key_pem_wo         = var.web_tls_private_key
    private_key_pem_wo_version = 1
    port                       = 443
  }

  document_root = "/srv/www/shop"
  source_dir    = "${path.module}/public"
  static_locations = [
    { url_prefix = "/static/", expires = "7d" },
    { url_prefix = "/images/", cache_control = "public, max-age=86400" },
  ]

  gzip                 = { types = ["text/css", "application/javascript", "application/json"] }
  client_max_body_size = "10m"
  timeouts             = { proxy_read = "30s", proxy_connect = "5s" }
  security_headers = {
    frame_options   = "DENY"
    referrer_policy = "strict-origin-when-cross-origin"
  }

  app = {
    artifact_source = "${path.module}/build/shop-linux-amd64"
    command         = ["/opt/foobar/shop/bin/shop-linux-amd64", "-listen", "127.0.0.1:8081"]
    port            = 8081
    user            = "shop"

    environment = {
      DB_HOST      = "10.0.0.31"
      DB_READ_HOST = "10.0.0.32"
    }
    # Write-only (Terraform 1.11+): never stored in the state. Bump the
    # version to deploy a new value. With older Terraform, use
    # secret_environment (sensitive, kept in the state).
    secret_environment_wo         = { DB_PASSWORD = var.db_password }
    secret_environment_wo_version = 1

    health_check_path    = "/healthz"
    health_check_timeout = "30s"
  }
}
