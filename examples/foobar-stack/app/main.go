// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command foobar-app is the application server of the www.foobar.com
// example: the business logic behind Nginx on each web server. It writes
// records to the MySQL primary, reads them from a replica, says which web
// server answered, and reports its health (both database connections) on
// /healthz.
//
// Configuration comes from the environment (foobar_web_server writes it to a
// root-only environment file; secrets never appear on the command line):
//
//	APP_LISTEN      address to listen on (default 127.0.0.1:8080)
//	DB_WRITER       host:port of the primary
//	DB_READERS      comma-separated host:port of replicas (default: the writer)
//	DB_NAME         database
//	DB_USER         user
//	DB_PASSWORD     password
//	DB_TLS_CA       when set, connect to every database over TLS and verify
//	                the server's certificate against this CA and the host of
//	                DB_WRITER / DB_READERS (an IP address as an IP SAN): the
//	                base64 of a PEM bundle (one line, as foobar_web_server's
//	                environment requires: base64encode(ca_pem) in Terraform),
//	                a PEM bundle itself, or the path of a PEM file. A server
//	                that does not offer TLS, or whose certificate does not
//	                verify, is refused.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

type app struct {
	host        string
	schemaReady atomic.Bool
	writer      *sql.DB
	readers     []*sql.DB
	names       []string // reader addresses, same order
	next        atomic.Uint64
}

func main() {
	listen := env("APP_LISTEN", "127.0.0.1:8080")
	writerAddr := env("DB_WRITER", "127.0.0.1:3306")
	readerAddrs := strings.Split(env("DB_READERS", writerAddr), ",")
	host, _ := os.Hostname()

	a := &app{host: host}
	roots, err := tlsRoots(os.Getenv("DB_TLS_CA"))
	if err != nil {
		log.Fatalf("DB_TLS_CA: %v", err)
	}
	open := func(addr string) (*sql.DB, error) { return openDB(addr, roots) }
	if a.writer, err = open(writerAddr); err != nil {
		log.Fatalf("writer %s: %v", writerAddr, err)
	}
	for _, r := range readerAddrs {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		db, err := open(r)
		if err != nil {
			log.Fatalf("reader %s: %v", r, err)
		}
		a.readers = append(a.readers, db)
		a.names = append(a.names, r)
	}
	if len(a.readers) == 0 {
		a.readers, a.names = []*sql.DB{a.writer}, []string{writerAddr}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/index.html", http.StatusFound)
	})
	mux.HandleFunc("GET /healthz", a.health)
	mux.HandleFunc("GET /api/whoami", a.whoami)
	mux.HandleFunc("GET /api/dbtls", a.dbTLS)
	mux.HandleFunc("POST /api/records", a.create)
	mux.HandleFunc("GET /api/records/{id}", a.read)
	srv := &http.Server{Addr: listen, Handler: a.tag(mux), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("foobar-app on %s: writer %s, readers %v, verified TLS %t", listen, writerAddr, a.names, roots != nil)
	log.Fatal(srv.ListenAndServe())
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// tlsRoots reads DB_TLS_CA: nil when it is empty (no TLS).
func tlsRoots(v string) (*x509.CertPool, error) {
	if v == "" {
		return nil, nil
	}
	b := []byte(v)
	if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil && bytes.HasPrefix(d, []byte("-----BEGIN")) {
		b = d
	} else if !strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		if b, err = os.ReadFile(v); err != nil {
			return nil, err
		}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, errors.New("holds no PEM certificate")
	}
	return roots, nil
}

// openDB opens a pool to addr (host:port); with roots, over TLS with the
// server's certificate verified against them and the host.
func openDB(addr string, roots *x509.CertPool) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.User = os.Getenv("DB_USER")
	cfg.Passwd = os.Getenv("DB_PASSWORD")
	cfg.DBName = os.Getenv("DB_NAME")
	cfg.Timeout = 3 * time.Second
	cfg.ReadTimeout = 5 * time.Second
	cfg.WriteTimeout = 5 * time.Second
	cfg.ParseTime = true
	cfg.AllowNativePasswords = true
	if roots != nil {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		cfg.TLS = &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(8)
	db.SetConnMaxLifetime(5 * time.Minute)
	return db, nil
}

// tag names the answering web server on every response.
func (a *app) tag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", a.host)
		h.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *app) whoami(w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, map[string]string{"server": a.host})
}

// health checks both database connections: the application is only useful
// when it can write and read.
// dbTLS answers the TLS cipher of a session on the writer and on each
// reader ("" for a session without TLS): SHOW SESSION STATUS 'Ssl_cipher'.
func (a *app) dbTLS(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	res := map[string]string{}
	dbs := append([]*sql.DB{a.writer}, a.readers...)
	for i, db := range dbs {
		k := "writer"
		if i > 0 {
			k = "reader " + a.names[i-1]
		}
		var name, cipher string
		if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
			reply(w, http.StatusServiceUnavailable, map[string]string{k: err.Error()})
			return
		}
		res[k] = cipher
	}
	reply(w, http.StatusOK, res)
}

func (a *app) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	res := map[string]string{"server": a.host}
	ok := true
	if err := a.writer.PingContext(ctx); err != nil {
		res["writer"], ok = err.Error(), false
	} else {
		res["writer"] = "ok"
	}
	for i, db := range a.readers {
		k := "reader " + a.names[i]
		if err := db.PingContext(ctx); err != nil {
			res[k], ok = err.Error(), false
		} else {
			res[k] = "ok"
		}
	}
	if !ok {
		reply(w, http.StatusServiceUnavailable, res)
		return
	}
	reply(w, http.StatusOK, res)
}

const schema = `CREATE TABLE IF NOT EXISTS records (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  body VARCHAR(1000) NOT NULL,
  written_by VARCHAR(255) NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)`

func (a *app) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Body == "" {
		reply(w, http.StatusBadRequest, map[string]string{"error": `send {"body": "..."}`})
		return
	}
	ctx := r.Context()
	if !a.schemaReady.Load() {
		if _, err := a.writer.ExecContext(ctx, schema); err != nil {
			reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		a.schemaReady.Store(true)
	}
	res, err := a.writer.ExecContext(ctx, "INSERT INTO records (body, written_by) VALUES (?, ?)", in.Body, a.host)
	if err != nil {
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	id, _ := res.LastInsertId()
	reply(w, http.StatusCreated, map[string]any{"id": id, "written_by": a.host})
}

// read serves a record from a replica (round robin over the readers). A
// record that has not replicated yet is a 404 with a Retry-After header.
func (a *app) read(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "id must be a number"})
		return
	}
	i := int(a.next.Add(1) % uint64(len(a.readers)))
	var body, by string
	err = a.readers[i].QueryRowContext(r.Context(), "SELECT body, written_by FROM records WHERE id = ?", id).Scan(&body, &by)
	w.Header().Set("X-Read-From", a.names[i])
	switch {
	case errors.Is(err, sql.ErrNoRows):
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("record %d not found on %s (yet)", id, a.names[i])})
	case err != nil:
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	default:
		reply(w, http.StatusOK, map[string]any{"id": id, "body": body, "written_by": by, "read_from": a.names[i], "served_by": a.host})
	}
}
