# Import ID: the members, primary first, comma-separated, each
# [USER@]HOST[:PORT] (the grammar every foobar resource uses: "@" is the SSH
# user). Everything else about the connections comes from the provider
# block. The
# replication account is read from the replicas; passwords, databases, users
# and settings are not read back: write them in the configuration, and the
# next plan shows what differs.
terraform import foobar_mysql_cluster.db 10.0.0.31,10.0.0.32,10.0.0.33
terraform import foobar_mysql_cluster.db deploy@10.0.0.31,deploy@10.0.0.32:2222
