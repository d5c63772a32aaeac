# Every setting is a default for the ssh block of each resource and data
# source, which can override it per host.
provider "foobar" {
  user             = "deploy"
  private_key_file = "~/.ssh/id_ed25519"
  known_hosts_file = "~/.ssh/known_hosts"

  # Secrets go here, never in a resource's ssh block (Terraform stores
  # those in the state): the provider block is stored nowhere and is read
  # on every operation. From an ephemeral variable, they stay out of saved
  # plan files too.
  # sudo_password  = var.sudo_password
  # sudo_passwords = { "10.0.0.12" = var.lb_sudo_password }

  # Reach private hosts through a bastion, which has its own host key check.
  # bastion = {
  #   host = "bastion.example.com"
  #   user = "jump"
  # }
}
