#!/usr/bin/env bash
# Checks that the pipeline's tools are on PATH: run by cloud-init on the build VM's first boot
# (runcmd, after the packages are installed; written by the user-data, as no script is staged
# yet). A package that installs but leaves no tool behind (a renamed binary, a broken mirror)
# then turns `cloud-init status` into an error, so provisioning stops before the snapshot.
#
#   check-tools.sh [--htcondor]
#
# SExtractor counts under either name: source-extractor (Debian, Ubuntu) or sex (EPEL).
# --htcondor (self-hosted pool) also asks for HTCondor's execute side, condor_master and
# condor_startd, which the pool's workers boot from the image.
# Exit codes: 0 all there, 1 a tool missing (named), 2 bad arguments.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} [--htcondor]

Exits 0 when SExtractor (source-extractor or sex) and funpack are on PATH, and with
--htcondor condor_master and condor_startd too; otherwise names the missing tool and
exits 1.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

main() {
  local htcondor=0
  case "$#:${1:-}" in
    0:) ;;
    1:--htcondor) htcondor=1 ;;
    1:-h | 1:--help) usage; exit 0 ;;
    *) usage; err "expected no arguments or --htcondor, got $#: '${1:-}'"; exit 2 ;;
  esac
  local missing=0 tool
  if ! command -v source-extractor >/dev/null && ! command -v sex >/dev/null; then
    err "SExtractor is not on PATH (neither 'source-extractor' nor 'sex'): its package installed no tool"
    missing=1
  fi
  if ! command -v funpack >/dev/null; then
    err "funpack is not on PATH: the cfitsio tools' package installed no tool"
    missing=1
  fi
  if ((htcondor)); then
    for tool in condor_master condor_startd; do
      if ! command -v "${tool}" >/dev/null; then
        err "${tool} is not on PATH: the image would have no HTCondor execute side for the pool's workers"
        missing=1
      fi
    done
  fi
  return "${missing}"
}

main "$@"
