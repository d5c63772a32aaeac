# The import ID is the members' hosts, primary first, comma-separated. The
# replication account is read from the replicas; passwords, databases, users
# and settings are not read back: write them in the configuration, and the
# next plan shows what differs.
terraform import foobar_mysql_cluster.db 10.0.0.31,10.0.0.32,10.0.0.33
