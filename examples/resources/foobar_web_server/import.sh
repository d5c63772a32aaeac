# Import ID: [USER@]HOST[:PORT]/NAME, the grammar every foobar resource uses
# ("@" is the SSH user, "/" the name of a thing on the host; an IPv6 address
# with a port in brackets). Everything else about the connection comes from
# the provider block. NAME@HOST, the form of earlier versions, is still
# accepted with a warning.
# The configuration is read back from the record the provider keeps on the
# host (/var/lib/foobar/web/<name>/meta.json); secrets are not in it, so set
# them in the configuration before the next apply.
terraform import foobar_web_server.web1 10.0.0.21/shop
terraform import foobar_web_server.web1 deploy@10.0.0.21:22/shop
