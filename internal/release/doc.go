// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Package release checks a GoReleaser dist/ directory and publishes the
// provider version it holds to a Terraform provider registry.
//
// The flow is always: Verify (refuses a broken or unsigned release and names
// the bad file) -> one publisher:
//
//   - PublishStatic writes a static tree that implements the provider registry
//     protocol v1 (discovery document, versions index, one download document
//     per platform, and the release files), servable by plain nginx.
//   - TFEClient.Publish uploads the version to the private registry of an
//     HCP Terraform / Terraform Enterprise organisation through its API.
//
// Publishers only accept a *Release, and Verify is the only way to obtain
// one, so nothing unverified is ever published.
package release
