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

  databases = [
    { name = "app" },
  ]
  users = [
    {
      name                = "app"
      host                = "10.0.0.%"
      password_wo         = var.app_password
      password_wo_version = 1
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
