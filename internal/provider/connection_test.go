// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// deprecatable is what the resource, data source and provider attributes
// share for this test.
type deprecatable interface {
	GetDeprecationMessage() string
	GetMarkdownDescription() string
	IsSensitive() bool
}

// sshAttributes lists every attribute under an `ssh` block (and its
// bastion) of a resource schema by path, members of lists as [*].
func sshAttributes(prefix string, attrs map[string]schema.Attribute, inSSH bool, out map[string]deprecatable) {
	for name, a := range attrs {
		p := prefix + name
		switch n := a.(type) {
		case schema.SingleNestedAttribute:
			sshAttributes(p+".", n.Attributes, inSSH || name == "ssh", out)
		case schema.ListNestedAttribute:
			sshAttributes(p+"[*].", n.NestedObject.Attributes, inSSH, out)
		default:
			if inSSH {
				out[p] = a
			}
		}
	}
}

// A secret in a resource's or the data source's ssh block (or its
// bastion) is deprecated, because Terraform stores it in the state and in
// plan files, and says where to put it instead; no other attribute is
// deprecated. The provider block's secrets are not deprecated and say that
// they are never stored.
func TestConnectionSecretsDeprecatedWhereStored(t *testing.T) {
	t.Parallel()
	got := map[string]deprecatable{}
	for name, s := range map[string]schema.Schema{
		"foobar_load_balancer": loadBalancerSchema(), "foobar_web_server": webServerSchema(), "foobar_mysql_cluster": mysqlClusterSchema(),
	} {
		sshAttributes(name+".", s.Attributes, false, got)
	}
	var ds datasource.SchemaResponse
	(&hostDataSource{}).Schema(context.Background(), datasource.SchemaRequest{}, &ds)
	conn := ds.Schema.Attributes["ssh"].(dschema.SingleNestedAttribute)
	for name, a := range conn.Attributes {
		got["foobar_host.ssh."+name] = a
	}
	for name, a := range conn.Attributes["bastion"].(dschema.SingleNestedAttribute).Attributes {
		got["foobar_host.ssh.bastion."+name] = a
	}

	var deprecated []string
	for p, a := range got {
		msg := a.GetDeprecationMessage()
		if msg == "" {
			continue
		}
		deprecated = append(deprecated, p)
		if !a.IsSensitive() || !strings.Contains(msg, "stored in the Terraform state and in saved plan files") || !strings.Contains(msg, "provider block") {
			t.Errorf("%s: deprecation %q does not say why and where instead", p, msg)
		}
		if !strings.Contains(a.GetMarkdownDescription(), "Deprecated") {
			t.Errorf("%s: description does not say it is deprecated: %q", p, a.GetMarkdownDescription())
		}
	}
	sort.Strings(deprecated)
	var want []string
	for _, block := range []string{
		"foobar_host.ssh.", "foobar_load_balancer.ssh.", "foobar_web_server.ssh.",
		"foobar_mysql_cluster.primary.ssh.", "foobar_mysql_cluster.replicas[*].ssh.",
	} {
		for _, name := range []string{"private_key", "private_key_passphrase", "sudo_password", "bastion.private_key", "bastion.private_key_passphrase"} {
			want = append(want, block+name)
		}
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, deprecated); diff != "" {
		t.Errorf("deprecated ssh attributes (-want +got):\n%s", diff)
	}

	var pr provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &pr)
	attrs := pr.Schema.Attributes
	for name, a := range map[string]pschema.Attribute{
		"private_key": attrs["private_key"], "private_key_passphrase": attrs["private_key_passphrase"], "sudo_password": attrs["sudo_password"],
		"sudo_passwords": attrs["sudo_passwords"], "bastion.private_key": attrs["bastion"].(pschema.SingleNestedAttribute).Attributes["private_key"],
	} {
		if a == nil || !a.IsSensitive() || a.GetDeprecationMessage() != "" || !strings.Contains(a.GetMarkdownDescription(), "never stored in the state or a plan file") {
			t.Errorf("provider %s: must be sensitive, not deprecated, and say it is never stored: %#v", name, a)
		}
	}
}

// sudo_passwords gives a host its own password: by host:port over host
// over sudo_password; a resource's own (deprecated) sudo_password still
// wins.
func TestConnectionSudoPasswords(t *testing.T) {
	t.Parallel()
	d := sshDefaults{
		Port: 22, User: "deploy", SudoPassword: "everyone", ConnectTimeout: 15 * time.Second,
		SudoPasswords: map[string]string{"10.0.0.5": "five", "10.0.0.6:2222": "six-2222", "10.0.0.6": "six"},
	}
	for _, c := range []struct {
		name string
		conn func() connectionModel
		want string
	}{
		{"listed host", func() connectionModel { return hostConnection("10.0.0.5") }, "five"},
		{"unlisted host", func() connectionModel { return hostConnection("10.0.0.7") }, "everyone"},
		{"host:port over host", func() connectionModel {
			c := hostConnection("10.0.0.6")
			c.Port = types.Int64Value(2222)
			return c
		}, "six-2222"},
		{"host on another port", func() connectionModel { return hostConnection("10.0.0.6") }, "six"},
		{"resource's own wins", func() connectionModel {
			c := hostConnection("10.0.0.5")
			c.SudoPassword = types.StringValue("own")
			return c
		}, "own"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, diags := d.config(c.conn())
			if diags.HasError() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(c.want, got.SudoPassword); diff != "" {
				t.Errorf("sudo password (-want +got):\n%s", diff)
			}
		})
	}
}
