terraform {
  required_version = ">= 1.6"
  required_providers {
    foobar = {
      source = "foobar/foobar"
    }
  }
}
