# Reports what each host of an inventory runs, through the foobar provider's
# SSH layer (strict host key checking, sudo). Point it at your own hosts (or
# at the lab's, from lab/.state/<lab>/inventory.json) with a .tfvars file.
terraform {
  required_providers {
    foobar = {
      source = "foobar/foobar"
    }
  }
}

variable "ssh_user" {
  type        = string
  description = "Login user on every host."
}

variable "private_key_file" {
  type        = string
  description = "Private key for that user."
}

variable "known_hosts_file" {
  type        = string
  description = "known_hosts file listing every host's keys."
}

variable "hosts" {
  type = map(object({
    address = string
  }))
  description = "Hosts by name."
}

# Ephemeral (Terraform 1.10+, OpenTofu 1.11+): kept out of saved plan files.
# The provider block is never stored in the state, and the provider reads it
# on every operation, so this is where SSH secrets belong.
variable "sudo_passwords" {
  type        = map(string)
  default     = {}
  ephemeral   = true
  description = "sudo passwords by host address, for hosts whose sudo asks for one."
}

provider "foobar" {
  user             = var.ssh_user
  private_key_file = var.private_key_file
  known_hosts_file = var.known_hosts_file
  agent            = false
  sudo_passwords   = var.sudo_passwords
}

data "foobar_host" "this" {
  for_each = var.hosts
  ssh = {
    host = each.value.address
  }
}

output "hosts" {
  value = {
    for name, h in data.foobar_host.this : name => {
      address  = var.hosts[name].address
      os       = h.os_pretty_name
      init     = h.init_system
      services = h.services
      host_key = h.host_key_fingerprint
    }
  }
}
