module github.com/foobar/terraform-provider-foobar

go 1.26.8

require (
	github.com/ProtonMail/go-crypto v1.4.0
	github.com/google/go-cmp v0.7.0
)

require (
	github.com/cloudflare/circl v1.6.2 // indirect
	golang.org/x/crypto v0.41.0 // indirect
	golang.org/x/sys v0.35.0 // indirect
)
