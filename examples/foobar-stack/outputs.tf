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

output "scrape_targets" {
  value = jsonencode(concat(
    [for i, e in foobar_exporter.node : { targets = [e.scrape_target], labels = { job = "node", host = local.all_named[i].name } }],
    [for i, e in foobar_exporter.nginx : { targets = [e.scrape_target], labels = { job = "nginx", host = local.webs_named[i].name } }],
    [for i, e in foobar_exporter.mysqld : { targets = [e.scrape_target], labels = { job = "mysqld", host = local.dbs_named[i].name } }],
    [for i, lb in foobar_load_balancer.lb :
      { targets = ["${lb.stats.bind_address}:${lb.stats.port}"], labels = { job = "haproxy", host = local.lbs_named[i].name } }
    ],
  ))
  description = "Prometheus' scrape targets as file_sd JSON, one group per exporter with its job (node, nginx, mysqld, haproxy) and host labels: `terraform output -raw scrape_targets > foobar-targets.json` next to monitoring/prometheus.yml."
}
