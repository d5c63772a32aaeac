// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

// Command testapp is the application server the foobar_web_server
// acceptance tests deploy (built by acctest.BuildTestApp for linux/amd64,
// CGO_ENABLED=0). It listens on one address and answers:
//
//	GET /healthz          200 "ok", or 503 when built or started unhealthy
//	GET /api/env          JSON: hostname, version, the sorted names of its
//	                      environment variables, the values of those named
//	                      in -show, and the sha256 of the values of those
//	                      named in -hash (to prove a secret arrived without
//	                      ever printing it)
//	any other request     JSON: name (-name, default the host name),
//	                      hostname, version, method and path, whatever
//	                      the method (GET, POST, ...)
//
// It prints one line when it starts and one per failed health check to
// stdout (the journal), never an environment value.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
)

// Set with -ldflags "-X main.version=... -X main.healthy=false".
var (
	version = "dev"
	healthy = "true"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	failHealth := flag.Bool("fail-health", healthy != "true", "answer 503 on /healthz")
	show := flag.String("show", "", "comma-separated variables whose values /api/env shows (never secrets)")
	hash := flag.String("hash", "", "comma-separated variables whose sha256 /api/env shows")
	name := flag.String("name", "", "the name this instance answers with (default: the host name), so that several instances on one host can be told apart")
	flag.Parse()

	host, _ := os.Hostname()
	if *name == "" {
		*name = host
	}
	logger := log.New(os.Stdout, "testapp: ", 0)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if *failHealth {
			logger.Printf("version %s: health check failing on purpose", version)
			http.Error(w, "unhealthy on purpose", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/api/env", func(w http.ResponseWriter, r *http.Request) {
		var keys []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		sort.Strings(keys)
		values := map[string]string{}
		for _, k := range split(*show) {
			values[k] = os.Getenv(k)
		}
		hashes := map[string]string{}
		for _, k := range split(*hash) {
			if v, ok := os.LookupEnv(k); ok {
				s := sha256.Sum256([]byte(v))
				hashes[k] = hex.EncodeToString(s[:])
			}
		}
		reply(w, map[string]any{"hostname": host, "version": version, "env_keys": keys, "env": values, "sha256": hashes})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"name": *name, "hostname": host, "version": version, "method": r.Method, "path": r.URL.Path,
			"forwarded_for": r.Header.Get("X-Forwarded-For"), "forwarded_proto": r.Header.Get("X-Forwarded-Proto")})
	})
	logger.Printf("version %s listening on %s (pid %d)", version, *listen, os.Getpid())
	if err := http.ListenAndServe(*listen, mux); err != nil {
		logger.Fatal(err)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
