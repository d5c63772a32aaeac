module github.com/foobar/terraform-provider-foobar

go 1.26.8
