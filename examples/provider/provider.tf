# Every setting is a default for the ssh block of each resource and data
# source, which can override it per host.
provider "foobar" {
  user             = "deploy"
  private_key_file = "~/.ssh/id_ed25519"
  known_hosts_file = "~/.ssh/known_hosts"

  # Reach private hosts through a bastion, which has its own host key check.
  # bastion = {
  #   host = "bastion.example.com"
  #   user = "jump"
  # }
}
