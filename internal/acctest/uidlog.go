// Copyright (c) foobar authors
// SPDX-License-Identifier: MPL-2.0

package acctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// UIDLogger is the C source of a shared library that, loaded into any
// process (LD_PRELOAD), appends "uid=<real uid> euid=<effective uid>
// exe=<program>" to the file named by $FOOBAR_UID_LOG. Tests use it to see
// which processes an application's environment reached (issue 13.3).
const UIDLogger = `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((constructor)) static void foobar_log_uid(void) {
	const char *p = getenv("FOOBAR_UID_LOG");
	char exe[256] = "", line[512];
	ssize_t n;
	int fd;
	if (p == NULL) return;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) exe[n] = 0;
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0666);
	if (fd < 0) return;
	snprintf(line, sizeof line, "uid=%d euid=%d exe=%s\n", (int)getuid(), (int)geteuid(), exe);
	if (write(fd, line, strlen(line)) < 0) {}
	close(fd);
}
`

// BuildUIDLogger compiles UIDLogger with gcc into dir and returns the
// library's path. The lab's image is Debian bookworm, like the machine the
// tests run on, so the library loads there too.
func BuildUIDLogger(t testing.TB, dir string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatal("gcc is needed to build the LD_PRELOAD library: ", err)
	}
	src, lib := filepath.Join(dir, "uidlog.c"), filepath.Join(dir, "uidlog.so")
	if err := os.WriteFile(src, []byte(UIDLogger), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("compiling the preload library: %v\n%s", err, out)
	}
	return lib
}
