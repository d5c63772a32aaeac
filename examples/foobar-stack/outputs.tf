output "url" {
  value       = "http://${var.domain}/static/index.html"
  description = "The site, once DNS points at the load balancer."
}

output "dns_record" {
  value       = "${var.domain}. IN A ${var.lb_host}"
  description = "The DNS record to create."
}

output "load_balancer" {
  value       = var.lb_host
  description = "Address of the load balancer."
}

output "stats_url" {
  value       = "http://${var.lb_host}:8404/stats"
  description = "HAProxy's statistics page (user admin); Prometheus metrics at /metrics."
}

output "db_writer_endpoint" {
  value       = foobar_mysql_cluster.db.writer_endpoint
  description = "Where the application writes."
}

output "db_reader_endpoints" {
  value       = foobar_mysql_cluster.db.reader_endpoints
  description = "Where the application reads."
}
