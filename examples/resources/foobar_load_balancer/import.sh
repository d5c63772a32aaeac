# Import ID: [USER@]HOST[:PORT], the grammar every foobar resource uses ("@"
# is the SSH user; an IPv6 address with a port in brackets). Everything else
# about the connection comes from the provider block.
#
# A haproxy.cfg this provider wrote (its record in
# /var/lib/foobar/haproxy/load_balancer.json matches the file) imports with
# every attribute, so the next plan is empty. Any other haproxy.cfg is
# adopted as it is: the next plan shows the whole diff from it to the
# configuration, apply replaces it, and destroy gives it back.
terraform import foobar_load_balancer.www 10.0.0.11
terraform import foobar_load_balancer.www deploy@10.0.0.11:22
