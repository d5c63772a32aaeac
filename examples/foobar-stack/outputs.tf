output "url" {
  value       = "http://${var.domain}/static/index.html"
  description = "The site, once DNS points at the load balancer."
}

output "dns_record" {
  value       = "${var.domain}. IN A ${local.site_address}"
  description = "The DNS record to create."
}

output "load_balancer" {
  value       = local.site_address
  description = "Where the site answers: the virtual address, or the one load balancer."
}

output "stats_urls" {
  value       = [for h in local.lb_members : "http://${h}:8404/stats"]
  description = "HAProxy's statistics page of each load balancer (user admin); Prometheus metrics at /metrics."
}

output "db_writer_endpoint" {
  value       = foobar_mysql_cluster.db.writer_endpoint
  description = "Where the application writes."
}

output "db_reader_endpoints" {
  value       = foobar_mysql_cluster.db.reader_endpoints
  description = "Where the application reads."
}
