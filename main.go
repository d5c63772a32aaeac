// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command terraform-provider-foobar is the foobar Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/foobar/terraform-provider-foobar/internal/provider"
)

// Run "go generate" to format example terraform files and generate the docs
// for the registry and website (see GNUmakefile's generate target).

var (
	// version and commit are set by the build (GoReleaser or make):
	// -ldflags "-X main.version=1.2.3 -X main.commit=abc123".
	version = "dev"
	commit  = ""
)

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	opts := providerserver.ServeOpts{
		Address:         "registry.terraform.io/foobar/foobar",
		Debug:           debug,
		ProtocolVersion: 6,
	}
	if commit != "" {
		log.Printf("terraform-provider-foobar %s (%s)", version, commit)
	}
	if err := providerserver.Serve(context.Background(), provider.New(version), opts); err != nil {
		log.Fatal(err.Error())
	}
}
