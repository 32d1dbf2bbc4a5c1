#!/usr/bin/env bash
# Checks that the pipeline's tools are on PATH: run by cloud-init on the build VM's first boot
# (runcmd, after the packages are installed; written by the user-data, as no script is staged
# yet). A package that installs but leaves no tool behind (a renamed binary, a broken mirror)
# then turns `cloud-init status` into an error, so provisioning stops before the snapshot.
#
#   check-tools.sh
#
# SExtractor counts under either name: source-extractor (Debian, Ubuntu) or sex (EPEL).
# Exit codes: 0 all there, 1 a tool missing (named), 2 bad arguments.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG}

Exits 0 when SExtractor (source-extractor or sex) and funpack are on PATH; otherwise
names the missing tool and exits 1.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

main() {
  case "$#:${1:-}" in
    0:) ;;
    1:-h | 1:--help) usage; exit 0 ;;
    *) usage; err "expected no arguments, got $#"; exit 2 ;;
  esac
  local missing=0
  if ! command -v source-extractor >/dev/null && ! command -v sex >/dev/null; then
    err "SExtractor is not on PATH (neither 'source-extractor' nor 'sex'): its package installed no tool"
    missing=1
  fi
  if ! command -v funpack >/dev/null; then
    err "funpack is not on PATH: the cfitsio tools' package installed no tool"
    missing=1
  fi
  return "${missing}"
}

main "$@"
