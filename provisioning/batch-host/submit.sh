#!/usr/bin/env bash
# Submits the catalogue jobs with CANFAR's canfar_submit, or with condor_submit on the stack's
# own submit node: run on the batch host (or the submit node) as the submitting user over SSH
# (remote.Command), after do_catalogue.bash and do_catalogue.sub were copied into the run
# directory and the worker image is `active`.
#
#   submit.sh --run-dir DIR --mode csv1|csv2|self-hosted --image IMAGE_NAME [--flavor FLAVOR]
#             [--proxy FILE --min-valid SECONDS] [--timeout SECONDS]
#             < credentials                             (csv1 reads credentials on stdin)
#
# csv1: `canfar_submit do_catalogue.sub IMAGE FLAVOR`, with OpenStack credentials read from
#       stdin as KEY=VALUE lines (OS_AUTH_URL OS_PROJECT_ID OS_PROJECT_NAME OS_USERNAME
#       OS_PASSWORD required; OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME OS_REGION_NAME
#       allowed; anything else refused). They reach canfar_submit's environment only: never
#       argv, never a file, never the log.
# csv2: `canfar_submit do_catalogue.sub IMAGE`; --flavor is ignored (csv2 takes none).
# self-hosted: `condor_submit do_catalogue.sub` on the pool's submit node, whose workers
#       already run IMAGE; --flavor is ignored. IMAGE still names the submission: a new
#       image is a new submission. The node answers SSH before cloud-init has configured
#       and started HTCondor, so it first waits (at most SCHEDD_WAIT s) for the local schedd.
#
# Success is condor_submit's "N job(s) submitted to cluster C." line in the output, not the
# exit code: both canfar_submit versions print their usage and exit 0 on a wrong number of
# arguments, having submitted nothing. On success stdout holds exactly one line:
#   {"cluster": "C", "jobs": N, "runDir": "DIR"}
# and DIR/.canfar-submitted records the submission (written atomically, only after success).
# A re-run with the same .sub, .bash, image and flavor prints the recorded cluster and does
# not submit again; any change submits again.
# --proxy: the certificate the submit file's x509userproxy names (relative to DIR). A job
# that outlives it cannot store its catalogue, so a certificate that expires within
# --min-valid seconds (the run's expected length) is refused before anything is queued.
#
# Exit codes:
#   0 submitted (or already submitted)   2 bad arguments or run dir
#   3 bad credentials on stdin           10 canfar_submit failed (its output is quoted)
#   11 usage printed, nothing submitted  12 quota exceeded
#   13 image not found or not unique     14 submit file refused by canfar_submit
#   15 canfar_submit timed out           16 exit 0 but no "submitted to cluster" line
#   17 the proxy certificate is missing or expires within --min-valid
set -Eeuo pipefail
# xtrace would print the password as it is read and exported.
set +x

readonly PROG="${0##*/}"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
readonly SUB="do_catalogue.sub"
readonly SCRIPT="do_catalogue.bash"
readonly MARKER=".canfar-submitted"
readonly REQUIRED_KEYS="OS_AUTH_URL OS_PROJECT_ID OS_PROJECT_NAME OS_USERNAME OS_PASSWORD"
readonly OPTIONAL_KEYS="OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME OS_REGION_NAME"
readonly EXIT_CREDS=3 EXIT_FAILED=10 EXIT_USAGE_TRAP=11 EXIT_QUOTA=12
readonly EXIT_IMAGE=13 EXIT_REFUSED=14 EXIT_TIMEOUT=15 EXIT_NO_CLUSTER=16 EXIT_PROXY=17
# HTCondor is in the image; cloud-init only configures and starts it: minutes, not more.
readonly SCHEDD_WAIT=900

usage() {
  cat >&2 <<EOF
usage: ${PROG} --run-dir DIR --mode csv1|csv2|self-hosted --image IMAGE_NAME [--flavor FLAVOR]
                 [--proxy FILE --min-valid SECONDS] [--timeout SECONDS]

Runs canfar_submit (or, self-hosted, condor_submit) on DIR/${SUB} (executable DIR/${SCRIPT})
and checks that condor_submit really submitted. Prints {"cluster": ..., "jobs": ..., "runDir": ...}
on stdout.

  --run-dir DIR       directory holding ${SUB} and ${SCRIPT}; job logs land there
  --mode MODE         csv1|csv2: which canfar_submit the batch host has (csv1: JOB IMAGE
                      FLAVOR, credentials on stdin; csv2: JOB IMAGE); self-hosted:
                      condor_submit JOB on the stack's own submit node
  --image IMAGE_NAME  the worker image (must be active and uniquely named)
  --flavor FLAVOR     worker flavor, required with csv1 (e.g. c2-7.5gb-30)
  --proxy FILE        the jobs' proxy certificate (x509userproxy), relative to DIR
  --min-valid SECONDS refuse a certificate that expires sooner (the run's expected length)
  --timeout SECONDS   bound on canfar_submit or condor_submit (default 300)

csv1 stdin: KEY=VALUE lines; required ${REQUIRED_KEYS}; optional ${OPTIONAL_KEYS}.
Exit codes: 2 usage, 3 credentials, 10 failed, 11 usage printed (wrong csv mode),
            12 quota, 13 image not found/unique, 14 submit file refused, 15 timeout,
            16 no "submitted to cluster" line, 17 certificate missing or expiring.
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

content_hash() {
  local run_dir="$1" image="$2" flavor="$3" mode="$4"
  {
    printf 'mode=%s\nimage=%s\nflavor=%s\n' "${mode}" "${image}" "${flavor}"
    sha256sum "${run_dir}/${SUB}" "${run_dir}/${SCRIPT}" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
}

# Prints the value of KEY in the marker file.
marker_field() {
  sed -n "s/^$2=//p" "$1" | head -n 1
}

json_result() {
  printf '{"cluster": "%s", "jobs": %s, "runDir": "%s"}\n' "$1" "$2" "$3"
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

write_marker() {
  local run_dir="$1" hash="$2" cluster="$3" jobs="$4" image="$5" tmp
  tmp="$(mktemp "${run_dir}/${MARKER}.XXXXXX")"
  printf 'hash=%s\ncluster=%s\njobs=%s\nimage=%s\nsubmitted=%s\n' \
    "${hash}" "${cluster}" "${jobs}" "${image}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"${tmp}"
  mv -f -- "${tmp}" "${run_dir}/${MARKER}"
}

OUT_FILE=""
main() {
  local run_dir="" mode="" image="" flavor="" timeout=300 proxy="" min_valid=""
  cli_options --run-dir=run_dir --mode=mode --image=image --flavor=flavor --timeout=timeout \
    --proxy=proxy --min-valid=min_valid -- "$@"
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
  [[ -d "${run_dir}" ]] || die "${EXIT_USAGE}" "--run-dir '${run_dir}' is not a directory"
  run_dir="$(cd "${run_dir}" && pwd)"
  [[ "${run_dir}" != *'"'* && "${run_dir}" != *\\* ]] || die "${EXIT_USAGE}" "--run-dir must not contain quotes or backslashes"
  [[ -f "${run_dir}/${SUB}" ]] || die "${EXIT_USAGE}" "${run_dir}/${SUB} is missing (deliver it before submitting)"
  [[ -f "${run_dir}/${SCRIPT}" ]] || die "${EXIT_USAGE}" "${run_dir}/${SCRIPT} is missing (deliver it before submitting)"
  if [[ "${mode}" == "self-hosted" ]]; then
    command -v condor_submit >/dev/null || die "${EXIT_FAILED}" "condor_submit is not on PATH: is this the pool's submit node, with HTCondor installed?"
  else
    command -v canfar_submit >/dev/null || die "${EXIT_FAILED}" "canfar_submit is not on PATH: is this the CANFAR batch host?"
  fi
  [[ "${mode}" == "csv1" ]] && read_credentials

  # One submission at a time per run dir: two concurrent runs must not both submit.
  exec 9>"${run_dir}/.canfar-submit.lock"
  flock -w 60 9 || die "${EXIT_FAILED}" "another submission holds ${run_dir}/.canfar-submit.lock"

  local hash marker="${run_dir}/${MARKER}"
  hash="$(content_hash "${run_dir}" "${image}" "${flavor}" "${mode}")"
  if [[ -f "${marker}" ]]; then
    if [[ "$(marker_field "${marker}" hash)" == "${hash}" ]]; then
      local cluster jobs
      cluster="$(marker_field "${marker}" cluster)"
      jobs="$(marker_field "${marker}" jobs)"
      log "already submitted as cluster ${cluster} (${marker}); not submitting again"
      json_result "${cluster}" "${jobs}" "${run_dir}"
      return 0
    fi
    log "content changed since cluster $(marker_field "${marker}" cluster) was submitted; submitting again"
  fi

  [[ -z "${proxy}" ]] || check_proxy "${run_dir}" "${proxy}" "${min_valid}"
  [[ "${mode}" != "self-hosted" ]] || wait_for_schedd "${SCHEDD_WAIT}"
  local rc=0
  OUT_FILE="$(mktemp)"
  trap 'rm -f -- "${OUT_FILE}"' EXIT
  run_submit "${run_dir}" "${mode}" "${image}" "${flavor}" "${timeout}" "${OUT_FILE}" || rc=$?
  check_output "${rc}" "${OUT_FILE}" "${mode}"
  write_marker "${run_dir}" "${hash}" "${SUBMITTED_CLUSTER}" "${SUBMITTED_JOBS}" "${image}"
  log "submitted ${SUBMITTED_JOBS} job(s) to cluster ${SUBMITTED_CLUSTER}; follow with: follow.sh ${SUBMITTED_CLUSTER}"
  json_result "${SUBMITTED_CLUSTER}" "${SUBMITTED_JOBS}" "${run_dir}"
}

main "$@"
