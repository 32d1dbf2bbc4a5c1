#!/usr/bin/env bash
# Gives the CADC user on the build VM its CADC credentials, as the tutorial's
# `cadc_dotnetrc; cadc-get-cert -n` do: ~/.netrc with the CADC password for the CADC web
# service hosts, then a proxy certificate in ~/.ssl/cadcproxy.pem, checked with openssl
# (cadc-get-cert reports a wrong password with "FAILED" and exit status 0).
#
# Usage (as the CADC user): cadc-credentials.sh [--user CADC_USER] [--cert-days 10]
#                           [--cert-only FILE] <password
# The password is read from standard input only, so it never shows in a process list,
# a log or a trace. With --cert-only (the batch host, where each submission gets its own
# certificate for the jobs) only the certificate is written, to FILE: the password sits
# in a private temporary ~/.netrc while cadc-get-cert runs and nowhere after.
# Exit: 0 done, 1 failed, 2 bad usage or input (nothing touched),
# 3 cadc-get-cert failed, 4 the certificate it left is missing, invalid or expiring.
set -Eeuo pipefail
# Tracing would print the password where it is written: never trace this script.
{ set +x; } 2>/dev/null

readonly PROG="cadc-credentials"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
# The web service hosts cadcutils and vos use, plus those canfarproc's cadc_dotnetrc writes.
readonly CADC_HOSTS=(ws-cadc.canfar.net ws-uv.canfar.net www.canfar.net www.cadc-ccda.hia-iha.nrc-cnrc.gc.ca
  www.canfar.phys.uvic.ca)
# The CADC user is also the VM's Linux account: the config's and create-user.sh's pattern.
readonly USER_RE='^[a-z_][a-z0-9_-]{0,31}$'
readonly DEFAULT_DAYS=10
readonly MAX_DAYS=30
# The new certificate must outlive the rest of provisioning and the snapshot by a margin.
readonly MIN_VALID_SECONDS=3600
readonly EXIT_GET_CERT=3
readonly EXIT_BAD_CERT=4

usage() {
  cat >&2 <<USAGE
Usage: ${0##*/} [--user CADC_USER] [--cert-days N] [--cert-only FILE] <password-file
Write ~/.netrc (mode 600) with CADC_USER (default: the login name) and the CADC password
read from standard input, for ${CADC_HOSTS[*]};
then get a proxy certificate valid N days (default ${DEFAULT_DAYS}, at most ${MAX_DAYS}) with
\`cadc-get-cert -n\` into ~/.ssl/cadcproxy.pem and check it with openssl.
  --cert-only FILE  write only the certificate, to FILE (mode 600); ~/.netrc is neither
                    read nor written: the password is in a private temporary one while
                    cadc-get-cert runs, removed on exit
Run as the CADC user. Safe to re-run: an unchanged ~/.netrc is left as it is.
USAGE
}

TMP_FILES=()
cleanup() {
  local f
  for f in "${TMP_FILES[@]}"; do rm -rf -- "${f}"; done
}

# Sets PASSWORD from the first line of stdin (silently when stdin is a terminal).
read_password() {
  PASSWORD=""
  if [[ -t 0 ]]; then
    read -r -s -p "CADC password: " PASSWORD || true
    echo >&2
  else
    IFS= read -r PASSWORD || true
  fi
  PASSWORD="${PASSWORD%$'\r'}"
  if [[ -z "${PASSWORD}" ]]; then
    usage_error "no password on standard input (pipe it in: ${0##*/} <password-file)"
  fi
  # ~/.netrc is whitespace-separated and Python versions differ on quoting and escapes.
  if [[ "${PASSWORD}" =~ [[:space:]\"\'\\] ]]; then
    usage_error "the password contains whitespace, a quote or a backslash, which ~/.netrc cannot hold portably; change the CADC password or write ~/.netrc by hand"
  fi
}

# Writes HOME/.netrc through a temp file (umask 077: never readable by others, even
# briefly), replaced atomically and only when it changes.
write_netrc() {
  local user="$1" home="$2" netrc="$2/.netrc" tmp host
  tmp="$(umask 077 && mktemp "${home}/.netrc.XXXXXX")"
  TMP_FILES+=("${tmp}")
  for host in "${CADC_HOSTS[@]}"; do
    # printf is a builtin: the password reaches the file without being any process's argument.
    printf 'machine %s login %s password %s\n' "${host}" "${user}" "${PASSWORD}"
  done >"${tmp}"
  if [[ -f "${netrc}" ]] && cmp -s "${tmp}" "${netrc}"; then
    chmod 600 "${netrc}"
    log "${netrc} already up to date"
    return 0
  fi
  mv -f "${tmp}" "${netrc}"
  log "wrote ${netrc} for ${#CADC_HOSTS[@]} CADC hosts"
}

# The certificate goes to a temp name first: a failed request must neither be mistaken
# for success by finding the previous certificate, nor destroy that certificate.
# get_certificate DAYS CERT NETRC_HOME: cadc-get-cert -n reads NETRC_HOME/.netrc.
get_certificate() {
  local days="$1" cert="$2" netrc_home="$3" dir tmp
  dir="$(dirname "${cert}")"
  tmp="$(umask 077 && mktemp "${dir}/${cert##*/}.XXXXXX")"
  TMP_FILES+=("${tmp}")
  log "requesting a ${days}-day proxy certificate with cadc-get-cert -n"
  if ! HOME="${netrc_home}" cadc-get-cert -n --days-valid "${days}" --cert-filename "${tmp}"; then
    err "cadc-get-cert failed; see its messages above"
    exit "${EXIT_GET_CERT}"
  fi
  if ! openssl x509 -checkend "${MIN_VALID_SECONDS}" -noout -in "${tmp}" >/dev/null 2>&1; then
    err "no valid proxy certificate from cadc-get-cert (wrong CADC user name or password?): ${cert} left unchanged"
    exit "${EXIT_BAD_CERT}"
  fi
  chmod 600 "${tmp}"
  mv -f "${tmp}" "${cert}"
  log "proxy certificate ${cert} valid until $(openssl x509 -enddate -noout -in "${cert}" | cut -d= -f2)"
}

main() {
  local user days="${DEFAULT_DAYS}" cert_only=""
  user="$(id -un)"
  local CLI_UNKNOWN_HINT=" (the password is read from standard input, never from arguments)"
  cli_options --user=user --cert-days=days --cert-only=cert_only -- "$@"
  [[ "${user}" =~ ${USER_RE} ]] || usage_error "--user: '${user}' is not a CADC user name (lowercase letters, digits, _ and -, at most 32, not starting with a digit or -)"
  if [[ ! "${days}" =~ ^[1-9][0-9]{0,2}$ ]] || (( days > MAX_DAYS )); then
    usage_error "--cert-days: expected a whole number of days from 1 to ${MAX_DAYS}, got '${days}'"
  fi
  [[ -n "${HOME:-}" && -d "${HOME}" ]] || { err "HOME is not set to a directory"; exit 1; }
  command -v cadc-get-cert >/dev/null || { err "cadc-get-cert not found: install cadcutils (pip install cadcutils)"; exit 1; }
  command -v openssl >/dev/null || { err "openssl not found: it checks the certificate"; exit 1; }
  if [[ -n "${cert_only}" ]]; then
    [[ -d "$(dirname "${cert_only}")" ]] || usage_error "--cert-only: the directory of '${cert_only}' does not exist"
  fi
  trap cleanup EXIT
  read_password
  if [[ -n "${cert_only}" ]]; then
    local private
    private="$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/cadc-credentials.XXXXXX")"
    TMP_FILES+=("${private}")
    write_netrc "${user}" "${private}" >/dev/null 2>&1
    unset PASSWORD
    get_certificate "${days}" "${cert_only}" "${private}"
    return 0
  fi
  write_netrc "${user}" "${HOME}"
  unset PASSWORD
  local dir="${HOME}/.ssl"
  (umask 077 && mkdir -p "${dir}")
  chmod 700 "${dir}"
  get_certificate "${days}" "${dir}/cadcproxy.pem" "${HOME}"
}

main "$@"
