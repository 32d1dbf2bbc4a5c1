#!/usr/bin/env bash
# First boot of a self-hosted pool node (submit node or worker): turns the pool password
# cloud-init wrote into HTCondor's pool key, removes the clear copy, checks that HTCondor
# parses its configuration and (re)starts it. Run by cloud-init's runcmd, which carries this
# script in the user-data (components/pool-user-data.ts): one command, so that any failing
# step fails the boot (`cloud-init status: error`) instead of being passed over, as the
# separate lines of a runcmd list are.
#
#   start-htcondor.sh PASSWORD_FILE
#
# Exit codes: 0 HTCondor configured (and restarted under systemd), 1 a step failed (named),
# 2 bad arguments.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly KEY_DIR="/etc/condor/passwords.d"
readonly KEY_FILE="${KEY_DIR}/POOL"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} PASSWORD_FILE

Stores the pool password of PASSWORD_FILE as HTCondor's pool key (${KEY_FILE}, root-only,
written by condor_store_cred), deletes PASSWORD_FILE, checks the configuration and, when
systemd is the init system, enables and restarts condor. Run as root.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

main() {
  case "$#:${1:-}" in
    1:-h | 1:--help) usage; exit 0 ;;
    1:-*) usage; err "unknown option '$1'"; exit 2 ;;
    1:?*) ;;
    *) usage; err "expected one argument, the password file, got $#"; exit 2 ;;
  esac
  local password_file="$1"
  [[ -f "${password_file}" ]] || { err "no password file at '${password_file}': the user-data writes it"; exit 1; }
  ((EUID == 0)) || { err "run as root: the pool key is root's"; exit 2; }

  # condor_store_cred -f makes no directory, and the Debian 13 package ships none.
  install -d -m 0700 -o root -g root "${KEY_DIR}"
  if ! (umask 077 && condor_store_cred add -c -i "${password_file}" -f "${KEY_FILE}" >/dev/null); then
    err "condor_store_cred could not write the pool key ${KEY_FILE}: the node cannot join the pool"
    exit 1
  fi
  rm -f -- "${password_file}"
  [[ -s "${KEY_FILE}" ]] || { err "condor_store_cred left no pool key at ${KEY_FILE}"; exit 1; }
  chmod 600 "${KEY_FILE}"

  condor_config_val CONDOR_HOST >/dev/null || { err "HTCondor cannot read its configuration (condor_config_val CONDOR_HOST failed)"; exit 1; }
  # The image's condor.service may have started before cloud-init wrote the configuration (or
  # not be enabled: HTCondor's RPMs leave it off). Test roots have no systemd: they start it.
  if [[ -d /run/systemd/system ]]; then
    systemctl enable condor
    systemctl restart condor
  fi
}

main "$@"
