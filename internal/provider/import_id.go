// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/foobar/terraform-provider-foobar/internal/validators"
)

// One import-ID grammar for every resource:
//
//	import-id = members [ "/" name ]
//	members   = member *( "," member )
//	member    = [ user "@" ] host [ ":" port ]    (an IPv6 address with a port in brackets)
//
//	foobar_load_balancer   deploy@10.0.0.11:2222           one member
//	foobar_web_server      10.0.0.21/shop                  one member and the site's name
//	foobar_mysql_cluster   10.0.0.31,ops@10.0.0.32         the members, primary first
//
// "@" always means the SSH user, "/" always the name of a thing on the host.
// What is not in the ID (credentials, host keys) comes from the provider's
// settings.
const importIDGrammar = "[USER@]HOST[:PORT] (an IPv6 address with a port in brackets: [ADDR]:PORT)"

// importMember is one host of an import ID.
type importMember struct {
	User string
	Host string
	Port int
}

// connection is the member's ssh block: the host, and the user and port
// when the ID names them; everything else null (the provider's settings).
func (m importMember) connection() connectionModel {
	c := hostConnection(m.Host)
	if m.User != "" {
		c.User = types.StringValue(m.User)
	}
	if m.Port != 0 {
		c.Port = types.Int64Value(int64(m.Port))
	}
	return c
}

// parseImportMembers parses "members" of the grammar.
func parseImportMembers(s string) ([]importMember, error) {
	var out []importMember
	for _, part := range strings.Split(s, ",") {
		m, err := parseImportMember(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func parseImportMember(s string) (importMember, error) {
	bad := func(why string) (importMember, error) {
		return importMember{}, fmt.Errorf("%q is not %s: %s", s, importIDGrammar, why)
	}
	var m importMember
	rest := s
	if u, h, ok := strings.Cut(s, "@"); ok {
		if err := validators.CheckUser(u); err != nil {
			return bad("user: " + err.Error())
		}
		m.User, rest = u, h
	}
	m.Host = rest
	if strings.HasPrefix(rest, "[") || strings.Count(rest, ":") == 1 {
		h, p, err := net.SplitHostPort(rest)
		if err != nil {
			return bad(err.Error())
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad(fmt.Sprintf("port %q is not a number from 1 to 65535", p))
		}
		m.Host, m.Port = h, n
	}
	if err := validators.CheckHost(m.Host); err != nil {
		return bad("host: " + err.Error())
	}
	return m, nil
}

// importID is the ID of a single-host resource as the grammar writes it
// (the inverse of parseImportMember, for the id attribute).
func (m importMember) String() string {
	h := m.Host
	if m.Port != 0 {
		h = net.JoinHostPort(h, strconv.Itoa(m.Port))
	}
	if m.User != "" {
		h = m.User + "@" + h
	}
	return h
}
