// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package ssh

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyChecker verifies one host's key, from a pinned key or a known_hosts
// file, and says which host key algorithms to negotiate.
type hostKeyChecker struct {
	addr string
	// algos restricts the host key algorithms offered in the handshake to
	// those the verifier can accept, so that a host known only by its ECDSA
	// key is asked for that key even if it also has an Ed25519 one.
	algos []string
	// want are the plain keys accepted for this host (for messages).
	want []knownhosts.KnownKey
	// certAuthorities is true when a @cert-authority line matches the host.
	certAuthorities bool
	check           func(addr string, remote net.Addr, key ssh.PublicKey) error
}

// Host key algorithms in order of preference. Certificates come first, as in
// OpenSSH; ssh-rsa (SHA-1) is kept last for old servers, as x/crypto does.
var (
	certAlgoPreference = []string{
		ssh.CertAlgoED25519v01,
		ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
		ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01,
	}
	plainAlgoPreference = []string{
		ssh.KeyAlgoED25519,
		ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA,
	}
)

// algosForKeyType lists the host key algorithms that produce a key of the
// given type (an RSA key can sign with three hash algorithms).
func algosForKeyType(typ string) []string {
	if typ == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	if slices.Contains(plainAlgoPreference, typ) {
		return []string{typ}
	}
	return nil
}

// orderAlgos returns the members of set in preference order.
func orderAlgos(set map[string]bool) []string {
	var out []string
	for _, a := range slices.Concat(certAlgoPreference, plainAlgoPreference) {
		if set[a] {
			out = append(out, a)
		}
	}
	return out
}

func newHostKeyChecker(cfg Config) (*hostKeyChecker, error) {
	if cfg.HostKey != "" {
		return newPinnedChecker(cfg)
	}
	return newKnownHostsChecker(cfg)
}

func newPinnedChecker(cfg Config) (*hostKeyChecker, error) {
	addr := cfg.Addr()
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(cfg.HostKey))
	if err != nil {
		return nil, fmt.Errorf("ssh: host_key for %s is not a public key in authorized_keys format (\"ssh-ed25519 AAAA...\"): %w", addr, err)
	}
	if _, isCert := pinned.(*ssh.Certificate); isCert {
		return nil, fmt.Errorf("ssh: host_key for %s is a certificate; pin the host's plain public key, or trust its CA with a @cert-authority line in known_hosts", addr)
	}
	algos := algosForKeyType(pinned.Type())
	if len(algos) == 0 {
		return nil, fmt.Errorf("ssh: host_key for %s has type %s, which cannot be used as a host key", addr, pinned.Type())
	}
	want := []knownhosts.KnownKey{{Key: pinned}}
	return &hostKeyChecker{
		addr:  addr,
		algos: algos,
		want:  want,
		check: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if bytes.Equal(key.Marshal(), pinned.Marshal()) {
				return nil
			}
			return &HostKeyChangedError{Addr: addr, Want: want, Key: key}
		},
	}, nil
}

// probeKey is a throwaway public key that matches no known_hosts entry. The
// known_hosts callback, asked about it, answers with every entry for the host.
var probeKey = func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
}()

func newKnownHostsChecker(cfg Config) (*hostKeyChecker, error) {
	addr := cfg.Addr()
	file := cfg.KnownHostsFile
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("ssh: known_hosts file %s does not exist (needed to verify the host key of %s): create it with the host's verified key, or set host_key", file, addr)
	case err != nil:
		return nil, fmt.Errorf("ssh: known_hosts file %s cannot be read (needed to verify the host key of %s): %w", file, addr, err)
	}
	// knownhosts.New reads the file again; reading it first gives the clear
	// errors above and the line markers below.
	db, err := knownhosts.New(file)
	if err != nil {
		return nil, fmt.Errorf("ssh: known_hosts file %s is invalid: %w", file, err)
	}
	certLines := certAuthorityLines(data)

	// Ask the database about a key it cannot know: the KeyError lists every
	// line that matches the host (plain keys and @cert-authority keys).
	var matching []knownhosts.KnownKey
	var ke *knownhosts.KeyError
	probeErr := db(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey)
	switch {
	case errors.As(probeErr, &ke):
		matching = ke.Want
	case probeErr != nil:
		return nil, fmt.Errorf("ssh: known_hosts file %s: %w", file, probeErr)
	}

	c := &hostKeyChecker{addr: addr}
	algos := map[string]bool{}
	for _, k := range matching {
		if k.Filename == file && certLines[k.Line] {
			c.certAuthorities = true
			for _, a := range certAlgoPreference {
				algos[a] = true
			}
			continue
		}
		c.want = append(c.want, k)
		for _, a := range algosForKeyType(k.Key.Type()) {
			algos[a] = true
		}
	}
	switch {
	case len(matching) == 0:
		// Unknown host: ask for a plain key, so that the error can show its
		// fingerprint.
		c.algos = slices.Clone(plainAlgoPreference)
	case len(algos) == 0:
		return nil, fmt.Errorf("ssh: known_hosts file %s lists only key types for %s that cannot be verified (%s)", file, addr, keyTypes(c.want))
	default:
		c.algos = orderAlgos(algos)
	}

	c.check = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db(hostname, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &ke):
			var plain []knownhosts.KnownKey
			for _, k := range ke.Want {
				if !(k.Filename == file && certLines[k.Line]) {
					plain = append(plain, k)
				}
			}
			if len(plain) == 0 {
				return &UnknownHostError{Addr: addr, KnownHostsFile: file, Key: key, OnlyCertAuthority: len(ke.Want) > 0}
			}
			// Keys of the received type first: they are the ones it replaced.
			slices.SortStableFunc(plain, func(a, b knownhosts.KnownKey) int {
				return boolRank(a.Key.Type() != key.Type()) - boolRank(b.Key.Type() != key.Type())
			})
			return &HostKeyChangedError{Addr: addr, Want: plain, Key: key}
		case errors.As(err, &re):
			return fmt.Errorf("ssh: the host key of %s (%s %s) is revoked at %s:%d; refusing to connect", addr, key.Type(), ssh.FingerprintSHA256(key), re.Revoked.Filename, re.Revoked.Line)
		default:
			// Certificate checks: unknown CA, expired, wrong principal.
			return fmt.Errorf("ssh: host certificate of %s rejected (known_hosts %s): %w", addr, file, err)
		}
	}
	return c, nil
}

// noCommonAlgo turns a failed host key negotiation into a clear error: the
// host does not offer any key type that known_hosts (or the pin) lists.
func (c *hostKeyChecker) noCommonAlgo(offered []string) error {
	if len(c.want) > 0 {
		return &HostKeyChangedError{Addr: c.addr, Want: c.want}
	}
	return fmt.Errorf("ssh: %s offers no host certificate (it offers %s), but known_hosts only trusts a @cert-authority for it", c.addr, strings.Join(offered, ", "))
}

// certAuthorityLines returns the 1-based numbers of @cert-authority lines,
// counted the way knownhosts counts them.
func certAuthorityLines(data []byte) map[int]bool {
	lines := map[int]bool{}
	s := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for s.Scan() {
		n++
		f := strings.Fields(s.Text())
		if len(f) > 0 && f[0] == "@cert-authority" {
			lines[n] = true
		}
	}
	return lines
}

func keyTypes(keys []knownhosts.KnownKey) string {
	var t []string
	for _, k := range keys {
		t = append(t, k.Key.Type())
	}
	return strings.Join(t, ", ")
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
