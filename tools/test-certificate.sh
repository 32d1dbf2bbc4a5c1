#!/usr/bin/env bash
# Writes a throwaway self-signed certificate and its key into one file, as cadc-get-cert
# leaves a proxy certificate: for the benches and tests whose CADC stand-ins want the jobs to
# carry one. Never a real credential.
#
#   test-certificate.sh FILE OWNER [DAYS]
#
# FILE gets the certificate, then the key (mode 600, owned by OWNER), valid DAYS (default 1)
# for CN=OWNER. Exit codes: 0 written, 1 openssl or chown failed, 2 bad arguments.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} FILE OWNER [DAYS]

Writes a self-signed certificate for CN=OWNER, valid DAYS (default 1), then its key, into
FILE (mode 600, owned by OWNER). For tests and benches only.
EOF_USAGE
}

fail_usage() {
  usage
  printf '%s: error: %s\n' "${PROG}" "$1" >&2
  exit 2
}

TMP_DIR=""
cleanup() { if [[ -n "${TMP_DIR}" ]]; then rm -rf -- "${TMP_DIR}"; fi; }

main() {
  [[ "${1:-}" != "--help" && "${1:-}" != "-h" ]] || { usage; exit 0; }
  (($# == 2 || $# == 3)) || fail_usage "expected FILE OWNER [DAYS], got $# argument(s)"
  local file="$1" owner="$2" days="${3:-1}"
  [[ "${owner}" =~ ^[a-z_][a-z0-9_-]*$ ]] || fail_usage "OWNER '${owner}' is not a user name"
  [[ "${days}" =~ ^[1-9][0-9]{0,3}$ ]] || fail_usage "DAYS '${days}' is not a whole number of days from 1"
  trap cleanup EXIT
  TMP_DIR="$(mktemp -d)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${owner}" \
    -days "${days}" -keyout "${TMP_DIR}/key" -out "${TMP_DIR}/cert" 2>/dev/null
  cat "${TMP_DIR}/cert" "${TMP_DIR}/key" >"${file}"
  chown "${owner}" "${file}"
  chmod 600 "${file}"
}

main "$@"
