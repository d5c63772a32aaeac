// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/foobar/terraform-provider-foobar/internal/acctest"
	"github.com/foobar/terraform-provider-foobar/internal/testutil/testcert"
)

// TestAccMySQLCluster_appOverTLS: application -> database over verified
// TLS on MariaDB (bookworm). The cluster serves the test CA's certificate
// (server_tls) and its application account requires TLS (require_ssl): the
// account is refused without TLS (error 1045) and by a client that trusts
// another CA, and accepted with the right one. The example application,
// deployed by foobar_web_server with DB_TLS_CA, answers a database-backed
// request through Nginx whose sessions on the primary and on the replica
// both run TLS.
func TestAccMySQLCluster_appOverTLS(t *testing.T) {
	requireTerraform(t)
	inv := acctest.Lab(t)
	db1, db2, web1 := inv.Host(t, "db1"), inv.Host(t, "db2"), inv.Host(t, "web1")
	cleanMySQLHosts(t, db1, db2)
	const name = "dbtls"
	forget(t, web1, name)
	t.Cleanup(func() { forget(t, web1, name) })
	cleanupUser(t, web1, "acc-"+name)
	artifact := buildStackApp(t)
	replPW, appPW := randomSecret(t, "Rp-"), randomSecret(t, "Ap-")
	ca, otherCA := testcert.NewCA(t), testcert.NewCA(t)

	body := fmt.Sprintf(`  replication_user     = %q
  replication_password = %q
%s
  replication_tls = {
    ca_pem = <<-EOT
%s
EOT
  }
  databases = [{ name = %q }]
  users = [{
    name        = %q
    password    = %q
    require_ssl = true
    database    = %q
    privileges  = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"]
  }]
  wait_timeout = "2m"
`, accReplUser, replPW, clusterTLSHCL(t, ca, db1, db2), strings.TrimSpace(ca.PEM), accDB, accAppUser, appPW, accDB)
	cfg := mysqlClusterHCL(inv, db1, []acctest.Host{db2}, body) + fmt.Sprintf(`
resource "foobar_web_server" %[1]q {
  %[2]s
  name          = %[1]q
  server_names  = ["%[1]s.test"]
  listen_port   = 8089
  document_root = "/srv/www/%[1]s"
  app = {
    artifact_source = %[3]q
    command         = ["/opt/foobar/%[1]s/bin/foobar-app"]
    port            = 8090
    user            = "acc-%[1]s"
    environment = {
      APP_LISTEN = "127.0.0.1:8090"
      DB_WRITER  = foobar_mysql_cluster.test.writer_endpoint
      DB_READERS = join(",", foobar_mysql_cluster.test.reader_endpoints)
      DB_NAME    = %[4]q
      DB_USER    = %[5]q
      DB_TLS_CA  = base64encode(<<-EOT
%[6]s
EOT
      )
    }
    secret_environment = { DB_PASSWORD = %[7]q }
    health_check_path  = "/healthz"
  }
}
`, name, web1.ConnectionHCL(), artifact, accDB, accAppUser, strings.TrimSpace(ca.PEM), appPW)

	tfresource.Test(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMySQLDestroyed(t, []acctest.Host{db1, db2}, accDB),
		Steps: []tfresource.TestStep{{
			Config: cfg,
			Check: tfresource.ComposeAggregateTestCheckFunc(
				func(*terraform.State) error { return checkVerifiedReplicationTLS(t, db1, db2) },
				checkClientTLS(t, db1, accAppUser, appPW, ca.PEM, otherCA.PEM),
				func(*terraform.State) error {
					// Through Nginx: the application's sessions on the
					// writer and the reader report a TLS cipher.
					got, err := getDBTLS(fmt.Sprintf("http://%s:8089/api/dbtls", web1.Address), name+".test")
					if err != nil {
						return err
					}
					t.Logf("the application's database sessions: %v", got)
					for _, k := range []string{"writer", "reader " + db2.Address + ":3306"} {
						if got[k] == "" {
							return fmt.Errorf("the application's %s session has no TLS cipher: %v", k, got)
						}
					}
					return nil
				},
			),
		}},
	})
}

// getDBTLS asks the example application for its database sessions' TLS
// ciphers (GET /api/dbtls) through Nginx with the site's Host header.
func getDBTLS(url, host string) (map[string]string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("GET %s: %w: %s", url, err, b)
	}
	return out, nil
}
