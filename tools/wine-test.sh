#!/usr/bin/env bash
# Runs the SSH package's unit tests as a Windows program under Wine (Debian's
# wine64, installed by tools/deps.sh): the agent on a named pipe (the
# OpenSSH agent service's \\.\pipe\openssh-ssh-agent, SSH_AUTH_SOCK naming a
# pipe, a hung agent bounded by the connect timeout), %USERPROFILE% and "~\"
# paths, and the transport tests against the in-process SSH server that need
# no POSIX shell behind it.
#
# Not run here, and why:
#  - tests whose server side runs a command: the in-process server runs
#    commands with a POSIX sh, which a Windows program under Wine cannot start
#    (the provider's commands run on Linux hosts, never on Windows);
#  - tests with an agent on a Unix socket: Wine 8 has no AF_UNIX sockets
#    (the Linux run covers that path; on Windows it is the same net.Dial);
#  - tests that run testdata scripts (fake sudo) or kill processes by signal.
#
# Fails (never skips) when Wine cannot run them: wine64 and the MinGW
# compiler come with tools/deps.sh, so a failure here is news.
set -euo pipefail
cd "$(dirname "$0")/.."

wine=${WINE:-/usr/lib/wine/wine64}
wineserver=${WINESERVER:-/usr/lib/wine/wineserver64}
[[ -x $wine ]] || { echo "wine-test: $wine is missing (tools/deps.sh installs wine64)" >&2; exit 1; }
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "wine-test: x86_64-w64-mingw32-gcc is missing (tools/deps.sh installs gcc-mingw-w64-x86-64-win32)" >&2; exit 1; }

export WINEPREFIX=$PWD/.cache/wine WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' WINEARCH=win64
out=$PWD/.cache/wine-test
mkdir -p "$WINEPREFIX" "$out"
# The wineserver of this prefix only, whatever happens.
trap '"$wineserver" -k >/dev/null 2>&1 || true' EXIT

start=$(date +%s)
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  echo "wine-test: making the Wine prefix in $WINEPREFIX (once)"
  "$wine" wineboot -i >/dev/null 2>&1 || true
  "$wineserver" -w
fi
dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [[ ! -f $dll || tools/wine/bcryptprimitives.c -nt $dll ]]; then
  x86_64-w64-mingw32-gcc -O2 -shared -nostdlib -e DllMainCRTStartup -o "$dll" tools/wine/bcryptprimitives.c -ladvapi32 -lkernel32
fi

GOOS=windows GOARCH=amd64 go test -c -o "$out/ssh.test.exe" ./internal/ssh
GOOS=windows GOARCH=amd64 go test -c -o "$out/homedir.test.exe" ./internal/homedir

# The tests of the Windows build, and the transport tests that need no shell
# on the server (host keys, pinned keys, certificates, bastion host keys,
# timeouts).
ssh_tests='^(TestAgentWindows.*|TestAgentAddress|TestIsNamedPipe|TestUnknownHost|TestHostKeyChanged|TestRevokedHostKey|TestKnownKeyTypeNotOffered|TestCertAuthority|TestCertAuthorityHostWithoutCert|TestPinnedHostKey|TestBastionHostKeyChecked|TestConnectRefused|TestHandshakeTimeout|TestRunEmptyArgv|TestClientString|TestConfigSecrets|TestDescribe)$'

rc=0
echo "wine-test: internal/homedir (windows/amd64 under $("$wine" --version 2>/dev/null || echo wine))"
(cd internal/homedir && timeout 120 "$wine" "$out/homedir.test.exe" -test.v -test.count=1 -test.run '^(TestExpandWith|TestExpandWindowsProfile)$') >"$out/homedir.log" 2>&1 || rc=1
grep -E '^(--- |ok|PASS|FAIL)' "$out/homedir.log" || true
echo "wine-test: internal/ssh"
(cd internal/ssh && timeout 120 "$wine" "$out/ssh.test.exe" -test.v -test.count=1 -test.timeout 100s -test.run "$ssh_tests") >"$out/ssh.log" 2>&1 || rc=1
grep -E '^(--- |ok|PASS|FAIL|panic)' "$out/ssh.log" || true
if [[ $rc != 0 ]]; then
  echo "wine-test: FAILED; full output in $out/homedir.log and $out/ssh.log" >&2
  tail -n 30 "$out/ssh.log" >&2
  exit 1
fi
# Every test named above must have run, not been skipped or filtered away.
ran=$(grep -c '^--- PASS' "$out/ssh.log" || true)
skipped=$(cat "$out/ssh.log" "$out/homedir.log" | grep -c -- '--- SKIP' || true)
echo "wine-test: $ran ssh tests passed, $skipped skipped, in $(( $(date +%s) - start ))s"
if (( ran < 20 || skipped > 0 )); then
  echo "wine-test: expected 20 ssh tests to pass and none to skip" >&2
  exit 1
fi
