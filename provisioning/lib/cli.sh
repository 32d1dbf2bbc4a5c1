#!/usr/bin/env bash
# The command-line plumbing every provisioning script shares: messages, usage errors, the
# --help handler, reading --option VALUE pairs and a fixed number of arguments. Sourced,
# never run. It travels with the scripts that use it: beside them where they are staged (the
# build VM's staging directory, the batch host's run directory, see provisioning/plan.ts and
# components/batch-submission.ts), in provisioning/lib/ in the repository; so a script looks
# beside itself first:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null ||
#     source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
#
# (a `source` of a missing file only fails, it does not end a bash script, and this file
# prints nothing while it is read, so the 2>/dev/null hides only "No such file").
#
# The sourcing script sets PROG (the name its messages start with) and defines usage(),
# which prints its help to stderr. Written for bash 3.2 too (macOS runs the local scripts):
# no namerefs, no associative arrays.

# Exit code of every usage error (bad or missing argument): nothing was touched.
readonly EXIT_USAGE=2

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# die CODE MESSAGE...: says what went wrong and exits CODE.
die() {
  local code="$1"
  shift
  err "$*"
  exit "${code}"
}

# Bad usage: the script's usage, then what was wrong (last, where the eye lands), exit 2.
usage_error() {
  usage
  err "$*"
  exit "${EXIT_USAGE}"
}

# cli_options --option=VARIABLE... [--option=ARRAY[]]... -- "$@"
# Reads --option VALUE pairs into the caller's variables (declared by the caller, `local`
# included: bash's dynamic scope reaches them); an ARRAY[] spec appends, so the option may
# repeat. -h/--help prints usage and exits 0. An unknown argument, or an option without a
# value or with an empty one, is a usage error naming it; CLI_UNKNOWN_HINT, when the caller
# sets it, is appended to the unknown-argument message.
cli_options() {
  local -a _cli_specs=()
  while (($# > 0)) && [[ "$1" != "--" ]]; do
    _cli_specs+=("$1")
    shift
  done
  (($# > 0)) || die 1 "cli_options: the specs must end with --"
  shift
  local _cli_spec _cli_target
  while (($# > 0)); do
    [[ "$1" != "-h" && "$1" != "--help" ]] || { usage; exit 0; }
    _cli_target=""
    for _cli_spec in "${_cli_specs[@]}"; do
      if [[ "${_cli_spec%%=*}" == "$1" ]]; then
        _cli_target="${_cli_spec#*=}"
        break
      fi
    done
    [[ -n "${_cli_target}" ]] || usage_error "unknown argument '$1'${CLI_UNKNOWN_HINT:-}"
    [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"
    if [[ "${_cli_target}" == *"[]" ]]; then
      # The name comes from the script's own spec, never from an argument.
      eval "${_cli_target%"[]"}+=(\"\$2\")"
    else
      printf -v "${_cli_target}" '%s' "$2"
    fi
    shift 2
  done
}

# cli_one_argument NAME "$@": the opening of a script taking exactly one argument NAME.
# --help (alone) prints usage and exits 0; any other count is a usage error.
cli_one_argument() {
  local name="$1"
  shift
  if [[ $# -eq 1 && ("$1" == "--help" || "$1" == "-h") ]]; then
    usage
    exit 0
  fi
  [[ $# -eq 1 ]] || usage_error "expected exactly one argument, ${name}; got $#"
}
