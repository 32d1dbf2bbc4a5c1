import { shellQuote } from "../lib/shell-quote";

/**
 * A stand-in for cadcutils' `cadc-get-cert` (CADC cannot be reached from here). Like the
 * real one it reads ~/.netrc for the credential service's host; it records its arguments
 * and every process's command line at the moment it runs (to prove the password is in
 * none), then either writes a real self-signed certificate + key, or reproduces the real
 * tool's trap: "FAILED: invalid username/password" and exit status 0.
 * Touch /tmp/cadc-get-cert.down in the root to make it fail outright (exit 1).
 */
export function cadcGetCertDouble(expected: { user: string; password: string }): string {
  return `#!/bin/bash
set -eu
printf '%s\\n' "$*" >> /tmp/cadc-get-cert.calls
# One cat for every process (a tr per process takes seconds); ones that end meanwhile are skipped.
cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' >> /tmp/cadc-get-cert.ps || true
if [ -e /tmp/cadc-get-cert.down ]; then echo "ERROR: connection to ws-cadc.canfar.net refused" >&2; exit 1; fi
days=10 out="$HOME/.ssl/cadcproxy.pem" netrc=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) netrc=1; shift ;;
    --days-valid) days="$2"; shift 2 ;;
    --cert-filename) out="$2"; shift 2 ;;
    *) echo "cadc-get-cert double: unexpected argument $1" >&2; exit 2 ;;
  esac
done
[ "$netrc" = 1 ] || { echo "cadc-get-cert double: expected -n" >&2; exit 2; }
read -r login password < <(awk '$1 == "machine" && $2 == "ws-cadc.canfar.net" { print $4, $6 }' "$HOME/.netrc")
if [ "$login" != ${shellQuote(expected.user)} ] || [ "$password" != ${shellQuote(expected.password)} ]; then
  echo "FAILED: invalid username/password"
  exit 0
fi
tmp="$(mktemp -d)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$login" \\
  -days "$days" -keyout "$tmp/key" -out "$tmp/cert" 2>/dev/null
cat "$tmp/cert" "$tmp/key" > "$out"
rm -rf "$tmp"
echo "DONE. $days day certificate saved in $out"
`;
}
