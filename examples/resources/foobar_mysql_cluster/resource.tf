# Passwords come in as ephemeral variables (Terraform 1.10+) and go to
# write-only arguments (Terraform 1.11+): they never reach the plan or the
# state. With older Terraform, use replication_password and users[*].password
# (sensitive, stored in state) instead.
variable "replication_password" {
  type      = string
  ephemeral = true
  sensitive = true
}

variable "app_password" {
  type      = string
  ephemeral = true
  sensitive = true
}

# TLS: one server certificate for every member (its subject alternative
# names list the members' addresses), signed by the CA that replicas and
# applications trust; for example made with the hashicorp/tls provider or
# the organisation's PKI.
variable "db_ca_pem" {
  type = string
}

variable "db_cert_pem" {
  type = string
}

variable "db_key_pem" {
  type      = string
  sensitive = true
}

resource "foobar_mysql_cluster" "db" {
  primary = {
    ssh = { host = "10.0.0.31" }
  }
  replicas = [
    { ssh = { host = "10.0.0.32" } },
    { ssh = { host = "10.0.0.33" }, server_id = 33 },
  ]

  replication_user                = "repl"
  replication_password_wo         = var.replication_password
  replication_password_wo_version = 1

  # Every member serves this certificate; replicas verify the primary's
  # against the CA and its address.
  server_tls = {
    cert_pem = var.db_cert_pem
    key_pem  = var.db_key_pem
  }
  replication_tls = {
    ca_pem = var.db_ca_pem
  }

  databases = [
    { name = "app" },
  ]
  users = [
    {
      name                = "app"
      host                = "10.0.0.%"
      password_wo         = var.app_password
      password_wo_version = 1
      require_ssl         = true # connections without TLS are refused
      database            = "app"
      privileges          = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX"]
    },
  ]

  settings = {
    max_connections         = "500"
    innodb_buffer_pool_size = "1G"
  }
  lag_threshold_seconds = 60

  # A commit is acknowledged only once a replica has it, so a failover
  # (failover_from) loses no acknowledged write.
  semi_sync = { timeout = "10s" }
}

# The application servers write to the primary and read from the replicas.
output "writer" {
  value = foobar_mysql_cluster.db.writer_endpoint
}

output "readers" {
  value = foobar_mysql_cluster.db.reader_endpoints
}
