#!/usr/bin/env bash
# One view of a stack's whole campaign, on the batch host (or the pool's submit node) as the
# user who submitted: `bash RUN_DIR/campaign.sh` (the stack output campaignCommand).
#
# A campaign is every submission of the stack: the run directories ~/canfar-batch/runs/STACK-*
# beside this one, each with the cluster its .canfar-submitted records. The exposures are
# those of the newest submission (its exposures.txt), its destination and pipeline P too.
# One listing of the destination says which are done (ID.P.cat there); one condor_q over
# every recorded cluster says which are running, idle or held; the rest are not yet
# submitted (never queued, removed, or stopped without a catalogue). It prints
#   campaign dev: 5 exposures, pipeline 3fa9c0d21b7e, catalogues in vos:me/cats
#   [##################------------]  60%  3 done, 1 running, 0 idle, 1 held, 0 not yet submitted
# then the held exposures with their hold reasons and the one command that retries them
# (condor_release of their clusters; the same on csv1, csv2 and a self-hosted pool).
#
# Exit codes: 0 printed; 2 bad arguments; 3 nothing submitted yet for this stack;
# 5 condor_q failed; 6 the destination could not be listed.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_NONE=3 EXIT_CONDOR=5 EXIT_DEST=6
# The shared messages (err, die) and EXIT_USAGE: delivered beside this script, in ../lib in
# the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
readonly BAR_WIDTH=30
# The stack's submissions and the one condor_q over them, shared with submit.sh: delivered
# beside this script, beside it in the repository too.
# shellcheck source-path=SCRIPTDIR source=campaign-jobs.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/campaign-jobs.sh"

usage() {
  cat >&2 <<EOF
usage: ${PROG} [--help]

Prints the state of this stack's whole campaign (every submission from run directories
$(dirname "$(run_dir_of_script)")/STACK-*): how many exposures are done, running, idle,
held and not yet submitted, a progress bar, the held exposures with their reasons, and the
command that retries them.

Exit codes: 0 printed, 2 usage, 3 nothing submitted yet, 5 condor_q failed,
            6 destination not listable.
EOF
}

run_dir_of_script() {
  cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd
}

# One listing of the destination, names one a line, with the jobs' certificate if there.
list_destination() {
  local dest="$1" cert="$2"
  if [[ "${dest}" == vos:* ]]; then
    local -a opts=()
    [[ ! -f "${cert}" ]] || opts=(--certfile "${cert}")
    timeout --kill-after=10 300 vls "${opts[@]}" "${dest}"
  else
    find "${dest}" -mindepth 1 -maxdepth 1 -printf '%f\n'
  fi
}

# classify LISTING EXPOSURES JOBS PIPELINE: for each exposure, in order, one line
#   ID STATE [CLUSTER.PROC REASON]   STATE done|running|idle|held|todo
# JOBS holds condor_q's tab-separated ClusterId ProcId JobStatus Args HoldReason; an exposure
# is in a job when its Args name it, and the job of the newest cluster speaks for it.
classify() {
  awk -F '\t' -v p="$4" '
    FILENAME == ARGV[1] { have[$0] = 1; next }
    FILENAME == ARGV[2] {
      n = split($4, ids, " ")
      for (i = 1; i <= n; i++) if (!(ids[i] in cluster) || $1 + 0 > cluster[ids[i]] + 0) {
        cluster[ids[i]] = $1; proc[ids[i]] = $2; status[ids[i]] = $3; reason[ids[i]] = $5
      }
      next
    }
    {
      sub(/\r$/, "")
      id = $0
      if ((id "." p ".cat") in have) { print id, "done"; next }
      s = (id in status) ? status[id] : 0
      if (s == 2 || s == 6 || s == 7) print id, "running"
      else if (s == 1) print id, "idle"
      else if (s == 5) print id, "held", cluster[id] "." proc[id], reason[id]
      else print id, "todo"
    }' "$1" "$3" "$2"
}

# The bar for DONE of TOTAL.
bar() {
  local done_n="$1" total="$2" filled
  filled=$((total == 0 ? BAR_WIDTH : done_n * BAR_WIDTH / total))
  printf '[%s%s] %3d%%' "$(printf '%*s' "${filled}" '' | tr ' ' '#')" \
    "$(printf '%*s' "$((BAR_WIDTH - filled))" '' | tr ' ' '-')" "$((total == 0 ? 100 : done_n * 100 / total))"
}

main() {
  while (($# > 0)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      *) err "unknown argument '$1'"; usage; exit "${EXIT_USAGE}" ;;
    esac
  done
  local self runs stack
  self="$(run_dir_of_script)"
  runs="$(dirname "${self}")"
  [[ "${self##*/}" =~ ${CAMPAIGN_RUN_RE} ]] || die "${EXIT_USAGE}" "${self} is not a run directory (STACK-HASH): run the campaign.sh the stack delivered, as campaignCommand says"
  stack="${BASH_REMATCH[1]}"

  local -a found=()
  mapfile -t found < <(campaign_submissions "${runs}" "${stack}" | cut -d' ' -f2-)
  ((${#found[@]} > 0)) || die "${EXIT_NONE}" "nothing submitted yet for stack ${stack} (no ${CAMPAIGN_MARKER} in ${runs}/${stack}-*)"
  local newest="${found[0]}"
  local -a clusters=()
  mapfile -t clusters < <(campaign_clusters "" "${found[@]}")
  local dest pipeline exposures="${newest}/exposures.txt"
  dest="$(campaign_field "${newest}/${CAMPAIGN_MARKER}" dest)"
  pipeline="$(campaign_field "${newest}/${CAMPAIGN_MARKER}" pipeline)"
  [[ -n "${dest}" && -n "${pipeline}" && -f "${exposures}" ]] ||
    die "${EXIT_NONE}" "${newest} holds no campaign (no destination, pipeline or exposures.txt recorded): submitted before campaigns?"

  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # the path is fixed now, on purpose.
  trap "rm -rf -- '${tmp}'" EXIT
  list_destination "${dest}" "${newest}/cadcproxy.pem" >"${tmp}/listing" 2>"${tmp}/listing.err" ||
    die "${EXIT_DEST}" "listing ${dest} failed: $(cat "${tmp}/listing.err")"
  : >"${tmp}/jobs"
  if ((${#clusters[@]} > 0)); then
    campaign_jobs "${tmp}/jobs" "${clusters[@]}" ||
      die "${EXIT_CONDOR}" "condor_q ${clusters[*]} failed: $(cat "${tmp}/jobs.err")"
  fi
  classify "${tmp}/listing" "${exposures}" "${tmp}/jobs" "${pipeline}" >"${tmp}/states"

  local total done_n running idle held todo
  read -r total done_n running idle held todo < <(awk '
    { n++; c[$2]++ } END { print n + 0, c["done"] + 0, c["running"] + 0, c["idle"] + 0, c["held"] + 0, c["todo"] + 0 }' "${tmp}/states")
  printf 'campaign %s: %s exposures, pipeline %s, catalogues in %s\n' "${stack}" "${total}" "${pipeline}" "${dest}"
  printf '%s  %s done, %s running, %s idle, %s held, %s not yet submitted\n' \
    "$(bar "${done_n}" "${total}")" "${done_n}" "${running}" "${idle}" "${held}" "${todo}"
  printf 'submissions: %s (clusters: %s)\n' "${#found[@]}" "${clusters[*]:-none}"
  if ((held > 0)); then
    printf 'held (%s), each with its reason:\n' "${held}"
    awk '$2 == "held" { id = $1; job = $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "  %s %s: %s\n", job, id, $0 }' "${tmp}/states"
    printf 'Once the cause is fixed, run just these again with:\n  condor_release %s\n' \
      "$(awk '$2 == "held" { split($3, j, "."); if (!(j[1] in seen)) { seen[j[1]] = 1; out = out (out == "" ? "" : " ") j[1] } } END { print out }' "${tmp}/states")"
  fi
  if ((todo > 0)); then
    printf 'not yet submitted (%s), e.g. %s: the next submission (pulumi up) queues them\n' "${todo}" \
      "$(awk '$2 == "todo" { printf "%s%s", (n++ ? " " : ""), $1; if (n == 5) exit }' "${tmp}/states")"
  fi
}

main "$@"
