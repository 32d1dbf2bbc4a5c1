#!/usr/bin/env bash
# Submits the catalogue jobs of a campaign with CANFAR's canfar_submit, or with condor_submit on
# the stack's own submit node: run on the batch host (or the submit node) as the submitting
# user over SSH (remote.Command), after do_catalogue.bash, do_catalogue.sub and exposures.txt
# were copied into the run directory and the worker image is `active`.
#
#   submit.sh --run-dir DIR --mode csv1|csv2|self-hosted --image IMAGE_NAME [--flavor FLAVOR]
#             --dest DEST --pipeline P [--policy changed|missing|all] [--exposures FILE]
#             [--proxy FILE --min-valid SECONDS] [--timeout SECONDS] [--per-job K]
#             < credentials                             (csv1 reads credentials on stdin)
#
# A campaign converges: the destination is listed once (vls, or the local directory) and
# only the exposures the policy picks are written to DIR/queue.txt, which the submit file
# queues from (`queue arguments from queue.txt`, one job a line):
#   changed  (default) no catalogue ID.P.cat by this pipeline P (missing, or made by another)
#   missing  no catalogue at all (neither ID.*.cat nor ID.cat)
#   all      every exposure
# --per-job K (default 1) puts K IDs on each line of queue.txt (the last may have fewer): one
# job catalogues them in order, overlapped (do_catalogue.bash ID ID...).
# Whatever the policy, an exposure in flight is not queued again: one condor_q over the
# clusters the stack's run directories (this one's earlier submission too) recorded for
# pipeline P says which jobs are still idle, running, transferring or suspended. A held job
# whose exposure is queued again is removed (condor_rm) once the new cluster is submitted,
# so a later condor_release cannot do the work twice. A condor_q that fails refuses the
# submission (exit 19) rather than risk queueing an exposure twice.
# It prints `queued N of M (K already catalogued by pipeline P, F in flight)` on stderr;
# N = 0 queues nothing and succeeds. Before anything is listed or queued, the destination
# must exist or be made (vmkdir -p) and take a probe write (vcp, then vrm) with the jobs'
# certificate.
#
# csv1: `canfar_submit do_catalogue.sub IMAGE FLAVOR`, with OpenStack credentials read from
#       stdin as KEY=VALUE lines (OS_AUTH_URL OS_PROJECT_ID OS_PROJECT_NAME OS_USERNAME
#       OS_PASSWORD required; OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME OS_REGION_NAME
#       allowed; anything else refused). They reach canfar_submit's environment only: never
#       argv, never a file, never the log.
# csv2: `canfar_submit do_catalogue.sub IMAGE`; --flavor is ignored (csv2 takes none).
# self-hosted: `condor_submit do_catalogue.sub` on the pool's submit node, whose workers
#       already run IMAGE; --flavor is ignored. The node answers SSH before cloud-init has
#       configured and started HTCondor, so it first waits (at most SCHEDD_WAIT s) for the
#       local schedd.
#
# Success is condor_submit's "N job(s) submitted to cluster C." line in the output, not the
# exit code: both canfar_submit versions print their usage and exit 0 on a wrong number of
# arguments, having submitted nothing. On success stdout holds exactly one line:
#   {"cluster": "C" (null when nothing was queued), "jobs": N, "total": M, "done": K,
#    "inFlight": F, "pipeline": "P", "runDir": "DIR"}
# and DIR/.canfar-submitted records the submission (written atomically, only after success).
# A re-run with the same files, image, flavor, destination, pipeline and policy prints the
# recorded result and neither lists nor submits again; any change does both again.
# --proxy: the certificate the submit file's x509userproxy names (relative to DIR). A job
# that outlives it cannot store its catalogue, so a certificate that expires within
# --min-valid seconds (the run's expected length) is refused before anything is queued.
#
# Exit codes:
#   0 submitted (or nothing to queue, or already submitted)   2 bad arguments or run dir
#   3 bad credentials on stdin           10 canfar_submit failed (its output is quoted)
#   11 usage printed, nothing submitted  12 quota exceeded
#   13 image not found or not unique     14 submit file refused by canfar_submit
#   15 canfar_submit timed out           16 exit 0 but no "submitted to cluster" line
#   17 the proxy certificate is missing or expires within --min-valid
#   18 the destination cannot be made, written or listed with the certificate
#   19 condor_q failed: which earlier jobs are in flight is unknown, nothing queued
set -Eeuo pipefail
# xtrace would print the password as it is read and exported.
set +x

readonly PROG="${0##*/}"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
# The stack's submissions and the one condor_q over them, shared with campaign.sh: beside
# this script, staged and in the repository alike.
# shellcheck source-path=SCRIPTDIR source=campaign-jobs.sh
source "$(dirname "${BASH_SOURCE[0]}")/campaign-jobs.sh"
readonly SUB="do_catalogue.sub"
readonly SCRIPT="do_catalogue.bash"
readonly MARKER=".canfar-submitted"
readonly QUEUE="queue.txt"
readonly REQUIRED_KEYS="OS_AUTH_URL OS_PROJECT_ID OS_PROJECT_NAME OS_USERNAME OS_PASSWORD"
readonly OPTIONAL_KEYS="OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME OS_REGION_NAME"
readonly EXIT_CREDS=3 EXIT_FAILED=10 EXIT_USAGE_TRAP=11 EXIT_QUOTA=12
readonly EXIT_IMAGE=13 EXIT_REFUSED=14 EXIT_TIMEOUT=15 EXIT_NO_CLUSTER=16 EXIT_PROXY=17
readonly EXIT_DEST=18 EXIT_CONDOR_Q=19
# The config's rules: domain/vospace.ts (vos:), domain/pipeline-identity.ts (12 hex digits).
readonly VOS_RE='^vos:[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$'
readonly PIPELINE_RE='^[0-9a-f]{12}$'
# HTCondor is in the image; cloud-init only configures and starts it: minutes, not more.
readonly SCHEDD_WAIT=900

usage() {
  cat >&2 <<EOF
usage: ${PROG} --run-dir DIR --mode csv1|csv2|self-hosted --image IMAGE_NAME [--flavor FLAVOR]
                 --dest DEST --pipeline P [--policy changed|missing|all] [--exposures FILE]
                 [--proxy FILE --min-valid SECONDS] [--timeout SECONDS] [--per-job K]

Checks the destination, lists it once, writes the exposures still to do to DIR/${QUEUE}
(which DIR/${SUB} queues from), then runs canfar_submit (or, self-hosted, condor_submit) and
checks that condor_submit really submitted. Prints on stdout
  {"cluster": ... or null, "jobs": N, "total": M, "done": K, "inFlight": F, "pipeline": P,
   "runDir": ...}
and on stderr "queued N of M (K already catalogued by pipeline P, F in flight)".

An exposure in flight (idle, running, transferring or suspended in a cluster this stack's
run directories recorded for pipeline P) is never queued again, whatever the policy, even
all. A held job whose exposure is queued again is removed (condor_rm) once the new cluster
is submitted. If condor_q fails, nothing is queued (exit 19).

  --run-dir DIR       directory holding ${SUB} and ${SCRIPT}; job logs land there
  --mode MODE         csv1|csv2: which canfar_submit the batch host has (csv1: JOB IMAGE
                      FLAVOR, credentials on stdin; csv2: JOB IMAGE); self-hosted:
                      condor_submit JOB on the stack's own submit node
  --image IMAGE_NAME  the worker image (must be active and uniquely named)
  --flavor FLAVOR     worker flavor, required with csv1 (e.g. c2-7.5gb-30)
  --proxy FILE        the jobs' proxy certificate (x509userproxy), relative to DIR
  --min-valid SECONDS refuse a certificate that expires sooner (the run's expected length)
  --per-job K         exposures per job, K IDs to a line of ${QUEUE} (default 1; at most 64)
  --timeout SECONDS   bound on canfar_submit, condor_submit and each VOSpace call (default 300)
  --dest DEST         where the catalogues go (the jobs' CATALOGUE_DEST): vos:CONTAINER,
                      made with vmkdir -p, or an absolute local directory
  --pipeline P        the pipeline's identity, 12 lowercase hex digits: catalogues are DEST/ID.P.cat
  --policy POLICY     which exposures to queue: changed (default: no ID.P.cat), missing (no
                      catalogue by any pipeline), all (every one not in flight)
  --exposures FILE    the campaign's IDs, one a line, in DIR (default exposures.txt)

csv1 stdin: KEY=VALUE lines; required ${REQUIRED_KEYS}; optional ${OPTIONAL_KEYS}.
Exit codes: 2 usage, 3 credentials, 10 failed, 11 usage printed (wrong csv mode),
            12 quota, 13 image not found/unique, 14 submit file refused, 15 timeout,
            16 no "submitted to cluster" line, 17 certificate missing or expiring,
            18 destination cannot be made, written or listed (nothing queued),
            19 condor_q failed (nothing queued).
EOF
}

# Reads KEY=VALUE lines from stdin into CRED_KEYS/CRED_VALUES (arrays, never the
# environment of this shell). Values are never printed, only key names.
CRED_KEYS=()
CRED_VALUES=()
read_credentials() {
  [[ -t 0 ]] && die "${EXIT_CREDS}" "csv1 needs OpenStack credentials on stdin as KEY=VALUE lines (${REQUIRED_KEYS})"
  local line key n=0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    n=$((n + 1))
    line="${line%$'\r'}"
    [[ -z "${line}" || "${line}" == \#* ]] && continue
    [[ "${line}" == *=* ]] || die "${EXIT_CREDS}" "stdin line ${n}: expected KEY=VALUE"
    key="${line%%=*}"
    case " ${REQUIRED_KEYS} ${OPTIONAL_KEYS} " in
      *" ${key} "*) ;;
      *) die "${EXIT_CREDS}" "stdin line ${n}: '${key}' is not accepted; allowed: ${REQUIRED_KEYS} ${OPTIONAL_KEYS}" ;;
    esac
    CRED_KEYS+=("${key}")
    CRED_VALUES+=("${line#*=}")
  done
  for key in ${REQUIRED_KEYS}; do
    has_credential "${key}" || die "${EXIT_CREDS}" "stdin lacks ${key} (required: ${REQUIRED_KEYS})"
  done
}

has_credential() {
  local i
  for i in "${!CRED_KEYS[@]}"; do
    [[ "${CRED_KEYS[i]}" == "$1" && -n "${CRED_VALUES[i]}" ]] && return 0
  done
  return 1
}

# What decides a submission: a change in any of these lists and submits again.
content_hash() {
  local run_dir="$1" image="$2" flavor="$3" mode="$4" campaign="$5" exposures="$6"
  {
    printf 'mode=%s\nimage=%s\nflavor=%s\n%s\n' "${mode}" "${image}" "${flavor}" "${campaign}"
    sha256sum "${run_dir}/${SUB}" "${run_dir}/${SCRIPT}" "${exposures}" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
}

# Prints the value of KEY in the marker file.
marker_field() {
  sed -n "s/^$2=//p" "$1" | head -n 1
}

# json_result CLUSTER JOBS TOTAL DONE PIPELINE RUN_DIR [IN_FLIGHT]: the one line on stdout;
# an empty CLUSTER (nothing queued) is null, an empty IN_FLIGHT (a marker of before) is 0.
json_result() {
  local cluster="null"
  [[ -z "$1" ]] || cluster="\"$1\""
  printf '{"cluster": %s, "jobs": %s, "total": %s, "done": %s, "inFlight": %s, "pipeline": "%s", "runDir": "%s"}\n' \
    "${cluster}" "$2" "$3" "$4" "${7:-0}" "$5" "$6"
}

# The campaign's IDs: one CFHT file id a line (6-8 digits, one lowercase letter), each once.
# Prints how many; dies naming the file and line of the first that is not.
check_exposures() {
  local file="$1" result
  result="$(awk '
    { sub(/\r$/, "") }
    !/^[0-9][0-9][0-9][0-9][0-9][0-9][0-9]?[0-9]?[a-z]$/ { printf "line %d: '\''%s'\'' is not a CFHT file id (6-8 digits then one lowercase letter, e.g. 1056213p)\n", NR, $0; bad = 1; exit }
    seen[$0]++ { printf "line %d: %s is listed twice (first on line %d)\n", NR, $0, first[$0]; bad = 1; exit }
    { first[$0] = NR; n++ }
    END { if (!bad) { if (n == 0) print "no exposure in it"; else print n } }' "${file}")"
  [[ "${result}" =~ ^[0-9]+$ ]] || die "${EXIT_USAGE}" "--exposures ${file}: ${result}"
  echo "${result}"
}

# vos_call TIMEOUT TOOL ARGS...: one VOSpace client call, bounded, with the jobs' certificate.
# Globals: reads VOS_CERT.
VOS_CERT=()
vos_call() {
  local limit="$1"
  shift
  timeout --kill-after=10 "${limit}" "$1" "${VOS_CERT[@]}" "${@:2}"
}

# The destination must be there (or made) and writable with the certificate the jobs carry,
# before anything is queued: thousands of jobs that each fail at their upload cost hours.
# Globals: reads TMP, VOS_CERT.
check_destination() {
  local dest="$1" limit="$2" out probe
  probe=".canfar-batch-probe-${HOSTNAME:-host}-$$"
  if [[ "${dest}" == vos:* ]]; then
    out="$(vos_call "${limit}" vmkdir -p "${dest}" 2>&1)" ||
      die "${EXIT_DEST}" "the destination ${dest} does not exist and cannot be made with the jobs' certificate (vmkdir -p: ${out}); nothing was queued"
    printf 'canfar-batch write probe\n' >"${TMP}/probe"
    out="$(vos_call "${limit}" vcp "${TMP}/probe" "${dest}/${probe}" 2>&1)" ||
      die "${EXIT_DEST}" "the destination ${dest} is not writable with the jobs' certificate (vcp of a probe: ${out}); nothing was queued"
    out="$(vos_call "${limit}" vrm "${dest}/${probe}" 2>&1)" ||
      log "could not remove the probe ${dest}/${probe} (${out}); remove it by hand"
  else
    if ! mkdir -p -- "${dest}" 2>/dev/null; then
      die "${EXIT_DEST}" "the destination ${dest} is not a directory and cannot be made; nothing was queued"
    fi
    : 2>/dev/null >"${dest}/${probe}" ||
      die "${EXIT_DEST}" "the destination ${dest} is not writable by $(id -un); nothing was queued"
    rm -f -- "${dest:?}/${probe}"
  fi
  log "destination ${dest} exists and is writable"
}

# The destination's names, one a line, in one listing (a VOSpace container is listed by the
# service in pages of one request, never one call per exposure).
list_destination() {
  local dest="$1" limit="$2" into="$3"
  if [[ "${dest}" == vos:* ]]; then
    vos_call "${limit}" vls "${dest}" >"${into}" 2>"${TMP}/vls.err" ||
      die "${EXIT_DEST}" "listing ${dest} failed (vls: $(cat "${TMP}/vls.err")); nothing was queued"
  else
    find "${dest}" -mindepth 1 -maxdepth 1 -printf '%f\n' >"${into}" ||
      die "${EXIT_DEST}" "listing ${dest} failed; nothing was queued"
  fi
}

# pick_exposures LISTING EXPOSURES PIPELINE POLICY QUEUE: writes the IDs the policy queues to
# QUEUE, in the campaign's order, and prints "queued total done other": other counts the IDs
# with a catalogue of another pipeline (or by hand) only.
pick_exposures() {
  awk -v p="$3" -v policy="$4" -v queue="$5" '
    # (Not FNR == NR: an empty listing would make the exposures the listing.)
    FILENAME == ARGV[1] {
      have[$0] = 1
      # ID.cat by hand, ID.P.cat by pipeline P: any catalogue of ID (never a hidden part).
      if ($0 ~ /\.cat$/ && $0 !~ /^\./) { split($0, part, "."); any[part[1]] = 1 }
      next
    }
    {
      sub(/\r$/, "")
      total++
      mine = ((($0 "." p ".cat") in have) ? 1 : 0)
      if (mine) done++
      else if ($0 in any) other++
      if (policy == "all" || (policy == "changed" && !mine) || (policy == "missing" && !mine && !($0 in any))) {
        print > queue
        queued++
      }
    }
    END { close(queue); print queued + 0, total + 0, done + 0, other + 0 }' "$1" "$2"
}

# group_lines FILE K: rewrites FILE with K of its lines to a line, in order.
group_lines() {
  ((${2} > 1)) || return 0
  awk -v k="$2" '{ line = line (n ? " " : "") $0; n++ } n == k { print line; line = ""; n = 0 }
    END { if (n) print line }' "$1" >"$1.grouped"
  mv -f -- "$1.grouped" "$1"
}

# earlier_jobs RUN_DIR PIPELINE MODE INTO: the jobs still in the queue of the clusters the
# stack's run directories (this one's earlier submission too) recorded for PIPELINE, from one
# condor_q, in INTO (CAMPAIGN_JOB_ATTRS lines); no such cluster: INTO empty, no condor_q.
# A run directory not named STACK-HASH (made by hand) is a stack of its own.
earlier_jobs() {
  local run_dir="$1" pipeline="$2" mode="$3" into="$4" name="${1##*/}"
  local -a dirs=() clusters=()
  : >"${into}"
  if [[ "${name}" =~ ${CAMPAIGN_RUN_RE} ]]; then
    mapfile -t dirs < <(campaign_submissions "$(dirname "${run_dir}")" "${BASH_REMATCH[1]}" | cut -d' ' -f2-)
  elif [[ -f "${run_dir}/${MARKER}" ]]; then
    dirs=("${run_dir}")
  fi
  ((${#dirs[@]} > 0)) || return 0
  mapfile -t clusters < <(campaign_clusters "${pipeline}" "${dirs[@]}")
  ((${#clusters[@]} > 0)) || return 0
  [[ "${mode}" != "self-hosted" ]] || wait_for_schedd "${SCHEDD_WAIT}"
  campaign_jobs "${into}" "${clusters[@]}" ||
    die "${EXIT_CONDOR_Q}" "condor_q ${clusters[*]} failed ($(cat "${into}.err")): which exposures of this stack's earlier clusters are still queued is unknown, so nothing was queued rather than risk running them twice; run again once condor_q answers"
  log "in flight checked in the stack's earlier clusters of pipeline ${pipeline}: ${clusters[*]}"
}

# drop_in_flight JOBS QUEUE HELD: takes out of QUEUE (one ID a line) the IDs of the jobs in
# JOBS still in flight (neither held (5), completed (4) nor removed (3); a job's Args are its
# IDs, one or several) and prints how many; writes to HELD the held jobs, "CLUSTER.PROC
# ID...", one of whose IDs stays in QUEUE: queued again.
drop_in_flight() {
  : >"$2.kept"
  : >"$3"
  awk -F '\t' -v kept="$2.kept" -v held="$3" '
    FILENAME == ARGV[1] {
      if ($3 == 5) args[$1 "." $2] = $4
      else if ($3 != 3 && $3 != 4) { n = split($4, ids, " "); for (i = 1; i <= n; i++) flying[ids[i]] = 1 }
      next
    }
    { sub(/\r$/, "") }
    $0 in flying { dropped++; next }
    { print > kept; again[$0] = 1 }
    END {
      close(kept)
      for (job in args) {
        n = split(args[job], ids, " ")
        for (i = 1; i <= n; i++) if (ids[i] in again) { print job, args[job] > held; break }
      }
      close(held)
      print dropped + 0
    }' "$1" "$2"
  mv -f -- "$2.kept" "$2"
}

# remove_held HELD CLUSTER TIMEOUT: removes the held jobs HELD lists ("CLUSTER.PROC ID..."),
# whose exposures CLUSTER now runs: released later, they would do the same work again.
remove_held() {
  local cluster="$2" limit="$3" job ids out
  while read -r job ids; do
    if out="$(timeout --kill-after=10 "${limit}" condor_rm "${job}" 2>&1)"; then
      log "removed held job ${job} (${ids}): queued again in cluster ${cluster}, so a later condor_release cannot do the work twice"
    else
      log "could not remove held job ${job} (${ids}; condor_rm: ${out}): queued again in cluster ${cluster}; remove it (condor_rm ${job}) rather than release it"
    fi
  done <"$1"
}

# The command that queues the jobs: canfar_submit on CANFAR's batch host, condor_submit itself
# on the stack's own submit node (no cloud scheduler to tell about the image there).
submit_tool() {
  if [[ "$1" == "self-hosted" ]]; then echo condor_submit; else echo canfar_submit; fi
}

# Runs the submit tool in the run dir, bounded, with output (both streams) in OUT_FILE.
# In csv1 the environment is reset to exactly the given OS_* values; `export` is a shell
# builtin, so the password is in no process's argv.
run_submit() {
  local run_dir="$1" mode="$2" image="$3" flavor="$4" timeout="$5" out="$6" tool
  tool="$(submit_tool "${mode}")"
  local -a args=("${SUB}")
  [[ "${mode}" == "self-hosted" ]] || args+=("${image}")
  [[ "${mode}" == "csv1" ]] && args+=("${flavor}")
  log "running ${tool} ${args[*]} in ${run_dir}"
  (
    cd "${run_dir}"
    if [[ "${mode}" == "csv1" ]]; then
      local name i
      while IFS= read -r name; do unset "${name}"; done < <(compgen -e | grep '^OS_' || true)
      for i in "${!CRED_KEYS[@]}"; do export "${CRED_KEYS[i]}=${CRED_VALUES[i]}"; done
    fi
    exec timeout --kill-after=10 "${timeout}" "${tool}" "${args[@]}"
  ) >"${out}" 2>&1 </dev/null
}

# Turns canfar_submit's output and exit code into a cluster id or a specific error.
SUBMITTED_JOBS=""
SUBMITTED_CLUSTER=""
check_output() {
  local rc="$1" out="$2" mode="$3" text line tool
  tool="$(submit_tool "${mode}")"
  text="$(cat "${out}")"
  line="$(grep -Eo '[0-9]+ job\(s\) submitted to cluster [0-9]+\.' "${out}" | tail -n 1 || true)"
  if [[ -n "${line}" ]]; then
    SUBMITTED_JOBS="${line%% *}"
    SUBMITTED_CLUSTER="${line##* }"
    SUBMITTED_CLUSTER="${SUBMITTED_CLUSTER%.}"
    ((rc == 0)) || log "${tool} exited ${rc} after condor_submit reported cluster ${SUBMITTED_CLUSTER}; the jobs are queued"
    return 0
  fi
  if ((rc == 124 || rc == 137)); then
    die "${EXIT_TIMEOUT}" "${tool} did not finish in time and was stopped; check condor_q before running again, it may have submitted. Output: ${text}"
  fi
  # canfar_submit's own failures; condor_submit on the pool's submit node has none of these.
  [[ "${mode}" == "self-hosted" ]] || check_canfar_failure "${rc}" "${text}" "${mode}"
  if ((rc == 0)); then
    die "${EXIT_NO_CLUSTER}" "${tool} exited 0 but printed no 'N job(s) submitted to cluster C.' line, so nothing is known to be submitted. Output: ${text}"
  fi
  die "${EXIT_FAILED}" "${tool} failed (exit ${rc}): ${text}"
}

# condor_submit fails at once ("Can't find address of local schedd") while the schedd is not
# up yet; a pool's submit node gets there within minutes of answering SSH.
wait_for_schedd() {
  local limit="$1" deadline=$((SECONDS + $1))
  until condor_q -totals >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "${EXIT_FAILED}" "the local schedd did not answer condor_q within ${limit} s: is HTCondor running on this submit node? (cloud-init status --long; condor_status)"
    sleep 5
  done
}

# Quota, image, refused file and the other generation's usage: each with its own exit code.
check_canfar_failure() {
  local rc="$1" text="$2" mode="$3"
  if grep -qi 'quota exceeded' <<<"${text}"; then
    die "${EXIT_QUOTA}" "the cloud refused for quota: ${text}"
  fi
  if grep -Eqi "Couldn't find image named|Multiple image IDs|image .*not (found|active)" <<<"${text}"; then
    die "${EXIT_IMAGE}" "canfar_submit could not resolve the image to exactly one active image: ${text}"
  fi
  if grep -Eqi "should not contain parameter|Requirements or Universe string already exists" <<<"${text}"; then
    die "${EXIT_REFUSED}" "canfar_submit refused the submit file: ${text}"
  fi
  if grep -Eq '^Usage: ' <<<"${text}"; then
    local other="csv2"
    [[ "${mode}" == "csv2" ]] && other="csv1"
    die "${EXIT_USAGE_TRAP}" "canfar_submit printed its usage and exited ${rc}: nothing was submitted. It was called in ${mode} form; this batch host's canfar_submit wants another number of arguments (csv1: JOB IMAGE FLAVOR, csv2: JOB IMAGE): set the mode to ${other}. Output: ${text}"
  fi
}

# The jobs' certificate must outlive the run: checked right before queueing.
check_proxy() {
  local run_dir="$1" proxy="$2" min_valid="$3" path end
  path="${run_dir}/${proxy}"
  [[ -f "${path}" ]] || die "${EXIT_PROXY}" "the jobs' proxy certificate ${path} is missing (the certificate step makes it before submitting); nothing was submitted"
  command -v openssl >/dev/null || die "${EXIT_PROXY}" "openssl is not on PATH: cannot check ${path}; nothing was submitted"
  end="$(openssl x509 -enddate -noout -in "${path}" 2>/dev/null | cut -d= -f2)" ||
    die "${EXIT_PROXY}" "${path} is not an X.509 certificate; nothing was submitted"
  [[ -n "${end}" ]] || die "${EXIT_PROXY}" "${path} is not an X.509 certificate; nothing was submitted"
  if ! openssl x509 -checkend "${min_valid}" -noout -in "${path}" >/dev/null 2>&1; then
    die "${EXIT_PROXY}" "the jobs' proxy certificate ${path} expires ${end}, within the run's expected length of $((min_valid / 3600)) h (${min_valid} s): jobs running then could not store their catalogues. Nothing was submitted; make a longer one (canfar:expectedRunHours, at most 30 days from CADC) or shorten the run"
  fi
  log "proxy certificate ${proxy} valid until ${end}"
}

# write_marker RUN_DIR HASH KEY=VALUE...: the record of this submission, written atomically.
write_marker() {
  local run_dir="$1" hash="$2" tmp
  shift 2
  tmp="$(mktemp "${run_dir}/${MARKER}.XXXXXX")"
  {
    printf 'hash=%s\n' "${hash}"
    printf '%s\n' "$@"
    printf 'submitted=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"${tmp}"
  mv -f -- "${tmp}" "${run_dir}/${MARKER}"
}

# Checks every argument and the run dir; sets the caller's variables (bash's dynamic scope).
check_arguments() {
  [[ -n "${run_dir}" ]] || usage_error "--run-dir is required"
  [[ "${mode}" == "csv1" || "${mode}" == "csv2" || "${mode}" == "self-hosted" ]] || die "${EXIT_USAGE}" "--mode '${mode}': expected csv1, csv2 or self-hosted"
  # domain/image-name.ts: what create-image.sh names and the submit file's +VMImage holds.
  [[ "${image}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$ ]] ||
    die "${EXIT_USAGE}" "--image '${image}': expected an image name of up to 255 letters, digits, '.', '_' or '-', starting with a letter or digit"
  if [[ "${mode}" == "csv1" ]]; then
    [[ "${flavor}" =~ ^[A-Za-z0-9._-]+$ ]] ||
      die "${EXIT_USAGE}" "--flavor '${flavor}': csv1 needs a flavor name such as c2-7.5gb-30"
  elif [[ -n "${flavor}" ]]; then
    log "--flavor ${flavor} ignored: ${mode} takes no flavor (the workers' size is fixed; the submit file's requests fit it)"
    flavor=""
  fi
  [[ "${timeout}" =~ ^[1-9][0-9]*$ ]] || die "${EXIT_USAGE}" "--timeout '${timeout}': expected a positive number of seconds"
  if [[ -n "${proxy}" || -n "${min_valid}" ]]; then
    [[ "${proxy}" =~ ^[A-Za-z0-9._-]+$ ]] || die "${EXIT_USAGE}" "--proxy '${proxy}': expected a file name in the run dir (with --min-valid)"
    [[ "${min_valid}" =~ ^[0-9]{1,9}$ ]] || die "${EXIT_USAGE}" "--min-valid '${min_valid}': expected a number of seconds (with --proxy)"
  fi
  dest="${dest%/}"
  if [[ "${dest}" == vos:* ]]; then
    [[ "${dest}" =~ ${VOS_RE} && "${dest}" != *..* && "${dest}/" != */./* ]] ||
      die "${EXIT_USAGE}" "--dest '${dest}': expected vos:CONTAINER (letters, digits, _ . + - between slashes, no '..')"
  else
    [[ "${dest}" == /* && "${dest}" =~ ^[A-Za-z0-9_./+-]+$ && "${dest}/" != */../* ]] ||
      die "${EXIT_USAGE}" "--dest '${dest}': expected vos:CONTAINER or an absolute local directory"
  fi
  [[ "${pipeline}" =~ ${PIPELINE_RE} ]] ||
    die "${EXIT_USAGE}" "--pipeline '${pipeline}': expected the pipeline's identity, 12 lowercase hex digits (e.g. 3fa9c0d21b7e)"
  [[ "${policy}" == "changed" || "${policy}" == "missing" || "${policy}" == "all" ]] ||
    die "${EXIT_USAGE}" "--policy '${policy}': expected changed, missing or all"
  [[ "${per_job}" =~ ^([1-9]|[1-5][0-9]|6[0-4])$ ]] ||
    die "${EXIT_USAGE}" "--per-job '${per_job}': expected a whole number of exposures per job from 1 to 64"
  [[ "${exposures}" =~ ^[A-Za-z0-9._-]+$ ]] || die "${EXIT_USAGE}" "--exposures '${exposures}': expected a file name in the run dir"
  [[ -d "${run_dir}" ]] || die "${EXIT_USAGE}" "--run-dir '${run_dir}' is not a directory"
  run_dir="$(cd "${run_dir}" && pwd)"
  [[ "${run_dir}" != *'"'* && "${run_dir}" != *\\* ]] || die "${EXIT_USAGE}" "--run-dir must not contain quotes or backslashes"
  [[ -f "${run_dir}/${SUB}" ]] || die "${EXIT_USAGE}" "${run_dir}/${SUB} is missing (deliver it before submitting)"
  [[ -f "${run_dir}/${SCRIPT}" ]] || die "${EXIT_USAGE}" "${run_dir}/${SCRIPT} is missing (deliver it before submitting)"
  [[ -f "${run_dir}/${exposures}" ]] || die "${EXIT_USAGE}" "${run_dir}/${exposures} is missing (deliver the campaign's exposures before submitting)"
  # What this script writes is what the jobs are made of: a submit file listing its own IDs
  # would queue every one of them whatever the destination holds.
  grep -Eq "^[[:space:]]*queue[[:space:]].*[[:space:]]from[[:space:]]+${QUEUE//./\\.}[[:space:]]*$" "${run_dir}/${SUB}" ||
    die "${EXIT_USAGE}" "${run_dir}/${SUB} does not queue from ${QUEUE} (expected a line 'queue arguments from ${QUEUE}')"
}

OUT_FILE=""
TMP=""
main() {
  local run_dir="" mode="" image="" flavor="" timeout=300 proxy="" min_valid=""
  local dest="" pipeline="" policy="changed" exposures="exposures.txt" per_job=1
  cli_options --run-dir=run_dir --mode=mode --image=image --flavor=flavor --timeout=timeout \
    --proxy=proxy --min-valid=min_valid --dest=dest --pipeline=pipeline --policy=policy \
    --exposures=exposures --per-job=per_job -- "$@"
  check_arguments
  local total
  total="$(check_exposures "${run_dir}/${exposures}")"
  if [[ "${mode}" == "self-hosted" ]]; then
    command -v condor_submit >/dev/null || die "${EXIT_FAILED}" "condor_submit is not on PATH: is this the pool's submit node, with HTCondor installed?"
  else
    command -v canfar_submit >/dev/null || die "${EXIT_FAILED}" "canfar_submit is not on PATH: is this the CANFAR batch host?"
  fi
  if [[ "${dest}" == vos:* ]]; then
    local tool
    for tool in vls vmkdir vcp vrm; do
      command -v "${tool}" >/dev/null || die "${EXIT_DEST}" "'${tool}' is not on PATH: the VOSpace client (pip install vos) is needed to check and list ${dest}"
    done
  fi
  [[ "${mode}" == "csv1" ]] && read_credentials

  # One submission at a time per run dir: two concurrent runs must not both submit.
  exec 9>"${run_dir}/.canfar-submit.lock"
  flock -w 60 9 || die "${EXIT_FAILED}" "another submission holds ${run_dir}/.canfar-submit.lock"

  local hash marker="${run_dir}/${MARKER}"
  hash="$(content_hash "${run_dir}" "${image}" "${flavor}" "${mode}" "dest=${dest} pipeline=${pipeline} policy=${policy}$( ((per_job == 1)) || echo " per_job=${per_job}")" "${run_dir}/${exposures}")"
  if [[ -f "${marker}" ]]; then
    local field
    if [[ "$(marker_field "${marker}" hash)" == "${hash}" ]]; then
      local -a recorded=()
      for field in cluster jobs total "done" pipeline; do
        recorded+=("$(marker_field "${marker}" "${field}")")
      done
      recorded+=("${run_dir}" "$(marker_field "${marker}" inFlight)")
      if [[ -n "${recorded[0]}" ]]; then
        log "already submitted as cluster ${recorded[0]} (${recorded[1]} job(s), ${marker}); not listing or submitting again"
      else
        log "already submitted, queueing nothing (${marker}); not listing or submitting again"
      fi
      json_result "${recorded[@]}"
      return 0
    fi
    log "content changed since cluster $(marker_field "${marker}" cluster) was submitted; submitting again"
  fi

  if [[ -n "${proxy}" ]]; then
    check_proxy "${run_dir}" "${proxy}" "${min_valid}"
    VOS_CERT=(--certfile "${run_dir}/${proxy}")
  fi
  TMP="$(mktemp -d)"
  trap 'rm -rf -- "${TMP}"' EXIT
  # Before the listing: a job that ends in between is then seen in flight or its catalogue
  # listed, never neither.
  earlier_jobs "${run_dir}" "${pipeline}" "${mode}" "${TMP}/jobs"
  check_destination "${dest}" "${timeout}"
  list_destination "${dest}" "${timeout}" "${TMP}/listing"
  local queued already other
  rm -f -- "${run_dir}/${QUEUE}.new"
  : >"${run_dir}/${QUEUE}.new"
  read -r queued total already other < <(pick_exposures "${TMP}/listing" "${run_dir}/${exposures}" "${pipeline}" "${policy}" "${run_dir}/${QUEUE}.new")
  local in_flight
  in_flight="$(drop_in_flight "${TMP}/jobs" "${run_dir}/${QUEUE}.new" "${TMP}/held")"
  queued=$((queued - in_flight))
  group_lines "${run_dir}/${QUEUE}.new" "${per_job}"
  mv -f -- "${run_dir}/${QUEUE}.new" "${run_dir}/${QUEUE}"
  log "queued ${queued} of ${total} (${already} already catalogued by pipeline ${pipeline}, ${in_flight} in flight)"
  local lines="${queued}"
  if ((per_job > 1)); then
    lines="$(wc -l <"${run_dir}/${QUEUE}")"
    ((queued == 0)) || log "in ${lines} job(s) of up to ${per_job} exposures"
  fi
  if ((other > 0)); then
    case "${policy}" in
      changed) log "${other} of them have only another pipeline's catalogue (or one made by hand): queued again (policy changed; their old catalogues are kept)" ;;
      missing) log "${other} have only another pipeline's catalogue (or one made by hand): not queued (policy missing)" ;;
    esac
  fi
  if ((queued == 0)); then
    write_marker "${run_dir}" "${hash}" "cluster=" "jobs=0" "total=${total}" "done=${already}" "pipeline=${pipeline}" \
      "dest=${dest}" "policy=${policy}" "image=${image}" "inFlight=${in_flight}"
    log "nothing to queue: every exposure the policy '${policy}' asks for is catalogued in ${dest} or in flight"
    json_result "" 0 "${total}" "${already}" "${pipeline}" "${run_dir}" "${in_flight}"
    return 0
  fi

  [[ "${mode}" != "self-hosted" ]] || wait_for_schedd "${SCHEDD_WAIT}"
  local rc=0
  OUT_FILE="${TMP}/submit.out"
  run_submit "${run_dir}" "${mode}" "${image}" "${flavor}" "${timeout}" "${OUT_FILE}" || rc=$?
  check_output "${rc}" "${OUT_FILE}" "${mode}"
  ((SUBMITTED_JOBS == lines)) ||
    log "condor_submit made ${SUBMITTED_JOBS} job(s) from ${lines} line(s) of ${QUEUE}: check ${SUB}'s queue statement"
  write_marker "${run_dir}" "${hash}" "cluster=${SUBMITTED_CLUSTER}" "jobs=${SUBMITTED_JOBS}" "total=${total}" "done=${already}" \
    "pipeline=${pipeline}" "dest=${dest}" "policy=${policy}" "image=${image}" "inFlight=${in_flight}"
  log "submitted ${SUBMITTED_JOBS} job(s) to cluster ${SUBMITTED_CLUSTER}; follow with: follow.sh ${SUBMITTED_CLUSTER}"
  remove_held "${TMP}/held" "${SUBMITTED_CLUSTER}" "${timeout}"
  json_result "${SUBMITTED_CLUSTER}" "${SUBMITTED_JOBS}" "${total}" "${already}" "${pipeline}" "${run_dir}" "${in_flight}"
}

main "$@"
