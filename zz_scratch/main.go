package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/foobar/terraform-provider-foobar/internal/mysql"
	"github.com/foobar/terraform-provider-foobar/internal/ssh"
)

func main() {
	ctx := context.Background()
	pool := ssh.NewPool()
	st := "/work/wt-db/lab/.state/foobar-db/"
	mode := os.Args[1]
	hosts := strings.Split(os.Args[2], ",")
	runners := map[string]mysql.Runner{}
	for _, h := range hosts {
		cl, err := pool.Get(ctx, ssh.Config{Host: h, Port: 22, User: "deploy", PrivateKeyFile: st + "id_ed25519", KnownHostsFile: st + "known_hosts", Sudo: true, ConnectTimeout: 10 * time.Second})
		if err != nil {
			panic(err)
		}
		runners[h] = cl
	}
	c := mysql.Cluster{Primary: mysql.Member{Host: hosts[0]}, ReplicationUser: "repl", ReplicationPassword: "repl-Pw1",
		Databases: []mysql.Database{{Name: "app"}},
		Users:     []mysql.User{{Name: "app", Password: "app-pw", Database: "app", Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"}}},
		Settings:  map[string]string{"max_connections": "200"},
		MaxLagSeconds: 30}
	for _, h := range hosts[1:] {
		c.Replicas = append(c.Replicas, mysql.Member{Host: h})
	}
	var prior *mysql.Prior
	if pr := os.Getenv("PRIOR"); pr != "" {
		ph := strings.Split(pr, ",")
		prior = &mysql.Prior{Primary: ph[0], Replicas: ph[1:], Settings: c.Settings, ReplicationUser: "repl", Users: []mysql.Account{{User: "app", Host: "%"}}}
		for _, h := range ph {
			if runners[h] == nil {
				cl, err := pool.Get(ctx, ssh.Config{Host: h, Port: 22, User: "deploy", PrivateKeyFile: st + "id_ed25519", KnownHostsFile: st + "known_hosts", Sudo: true, ConnectTimeout: 10 * time.Second})
				if err != nil {
					panic(err)
				}
				runners[h] = cl
			}
		}
	}
	env := mysql.Env{Runners: runners, Log: func(msg string, f map[string]any) { fmt.Println(time.Now().Format("15:04:05.000"), msg, f) }}
	t0 := time.Now()
	switch mode {
	case "converge":
		s, err := mysql.Converge(ctx, env, c, mysql.ConvergeOptions{Install: true, WaitTimeout: time.Minute, Prior: prior})
		fmt.Printf("err=%v\ndrift=%q\nwarn=%q\n", err, s.Drift, s.Warnings)
		for _, m := range s.Members {
			fmt.Printf("%s %s %v id=%s ro=%v %s\n", m.Host, m.Role, m.Server, m.ServerID, m.ReadOnly, m.Replica.Summary())
		}
	case "observe":
		s := mysql.Observe(ctx, env, c)
		fmt.Printf("drift=%q\n", s.Drift)
		for _, m := range s.Members {
			fmt.Printf("%s %s %v id=%s ro=%v %s\n", m.Host, m.Role, m.Server, m.ServerID, m.ReadOnly, m.Replica.Summary())
		}
	case "teardown":
		w, err := mysql.Teardown(ctx, env, c, mysql.TeardownOptions{Accounts: []mysql.Account{{User: "repl", Host: "%"}, {User: "app", Host: "%"}}})
		fmt.Printf("err=%v warn=%q\n", err, w)
	}
	fmt.Println("took", time.Since(t0))
}
