// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package release

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

const publicKeyBlockType = "PGP PUBLIC KEY BLOCK"

// PublicKey is the ASCII-armored public half of the release signing key, as
// registries publish it to Terraform (signing_keys.gpg_public_keys).
type PublicKey struct {
	// Armor is the key exactly as given (ASCII armor), published verbatim.
	Armor string
	// KeyID is the 16-hex-digit, upper-case ID of the primary key: the form
	// the registry protocol and the HCP Terraform GPG key API use.
	KeyID string

	keyring openpgp.EntityList
}

// ParsePublicKey reads an ASCII-armored OpenPGP public key. It refuses
// private key material, so that a secret can never end up published in a
// download document or sent to a registry by mistake.
func ParsePublicKey(armored []byte) (*PublicKey, error) {
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("public key: not ASCII-armored OpenPGP data: %w", err)
	}
	if block.Type != publicKeyBlockType {
		return nil, fmt.Errorf("public key: armor block is %q, want %q (never pass a private key)", block.Type, publicKeyBlockType)
	}
	// ReadArmoredKeyRing reads only the first armor block; a second one would
	// silently be published along with it.
	if n := bytes.Count(armored, []byte("-----BEGIN PGP")); n != 1 {
		return nil, fmt.Errorf("public key: file holds %d armor blocks, want exactly 1", n)
	}
	keyring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	if len(keyring) != 1 {
		return nil, fmt.Errorf("public key: armor holds %d keys, want exactly 1", len(keyring))
	}
	if keyring[0].PrivateKey != nil {
		return nil, errors.New("public key: contains private key material")
	}
	return &PublicKey{
		Armor:   string(armored),
		KeyID:   fmt.Sprintf("%016X", keyring[0].PrimaryKey.KeyId),
		keyring: keyring,
	}, nil
}

// checkSignature verifies a binary detached signature over data, and
// explains a failure in words an operator can act on.
func (k *PublicKey) checkSignature(data, sig []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP")) {
		return errors.New("signature is ASCII-armored; Terraform needs a binary detached signature (gpg --detach-sign without --armor)")
	}
	_, err := openpgp.CheckDetachedSignature(k.keyring, bytes.NewReader(data), bytes.NewReader(sig), nil)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return fmt.Errorf("signature was not made by the given public key %s (unknown signer)", k.KeyID)
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return fmt.Errorf("signing key %s has been revoked", k.KeyID)
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return fmt.Errorf("signing key %s has expired", k.KeyID)
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return errors.New("signature has expired")
	default:
		var sigErr pgperrors.SignatureError
		if errors.As(err, &sigErr) {
			return fmt.Errorf("bad signature by key %s: the signed file was changed after signing (%w)", k.KeyID, err)
		}
		return fmt.Errorf("signature does not verify with key %s: %w", k.KeyID, err)
	}
}
