# Import ID: <name>@<host>, reached with the provider's SSH settings.
# The configuration is read back from the record the provider keeps on the
# host (/var/lib/foobar/web/<name>/meta.json); secrets are not in it, so set
# them in the configuration before the next apply.
terraform import foobar_web_server.web1 shop@10.0.0.21
