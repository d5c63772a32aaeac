# Check that a host is reachable (with strict host key checking and sudo)
# and see what it runs before any resource changes it.
data "foobar_host" "web1" {
  ssh = {
    host = "10.0.0.21"
  }
}

output "web1" {
  value = {
    os          = data.foobar_host.web1.os_pretty_name
    init_system = data.foobar_host.web1.init_system
    services    = data.foobar_host.web1.services
  }
}
