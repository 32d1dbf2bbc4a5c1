#!/usr/bin/env bash
# PLACEHOLDER from the program side of issue 22, so the run directory's campaign.sh exists on
# this branch: the shell side's campaign.sh (the campaign view) replaces it whole at merge.
#
#   campaign.sh [--help]
#
# Exit codes: 0 printed, 2 bad arguments.
set -euo pipefail

usage() {
  printf 'usage: %s [--help]\n\nThe campaign view (placeholder: the shell side of issue 22 provides it).\n' "${0##*/}"
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") printf '%s: the campaign view is not in this build yet\n' "${0##*/}" >&2; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
