#!/usr/bin/env bash
# Prints the installed version of each package, for the worker image's properties: run on the
# build VM by the snapshot component (remote.Command, copied beside quiesce.sh) before quiesce.
#
#   package-versions.sh PACKAGE...
#
# Prints "name=version " for each PACKAGE on one line, in the order the package manager
# answers: dpkg-query's Version on Debian and Ubuntu, rpm's VERSION-RELEASE on Rocky.
# Exit codes: 0 printed, 1 a package is not installed (the package manager's message),
#             2 bad arguments, 3 neither dpkg-query nor rpm is on PATH.
set -Eeuo pipefail

readonly PROG="${0##*/}"
# Debian's and RPM's package names; none starts with '-', so none reads as an option.
readonly NAME_RE='^[A-Za-z0-9][A-Za-z0-9+._-]*$'

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} PACKAGE...

Prints "name=version " for each installed PACKAGE (dpkg-query, else rpm).
Exit codes: 0 printed, 1 a package not installed, 2 usage, 3 no dpkg-query nor rpm.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

main() {
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") usage; err "expected at least one PACKAGE"; exit 2 ;;
  esac
  local package
  for package in "$@"; do
    [[ "${package}" =~ ${NAME_RE} ]] || { err "PACKAGE '${package}' is not a package name"; exit 2; }
  done
  if command -v dpkg-query >/dev/null; then
    dpkg-query -W -f='${Package}=${Version} ' "$@"
  elif command -v rpm >/dev/null; then
    rpm -q --qf '%{NAME}=%{VERSION}-%{RELEASE} ' "$@"
  else
    err "neither dpkg-query nor rpm is on PATH: cannot read package versions"
    exit 3
  fi
}

main "$@"
