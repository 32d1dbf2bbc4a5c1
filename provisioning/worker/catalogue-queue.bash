#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): several exposures in one job
# (do_catalogue.bash ID ID...), overlapped so the network and the CPUs both work: exposure
# i+1 downloads while i is unpacked and extracted, and i uploads while i+1 extracts. At most
# one exposure is fetched ahead, so the scratch holds about two exposures at a time.
# Each exposure's steps run in a subshell of their own: a step's `die` ends that exposure
# with its class (download 3, unpack 4, extract 5, upload 6, check 7, ...), never the others. The
# job exits with the first failed exposure's code and names every failure on stderr (and,
# under HTCondor, in the job's CatalogueFailures attribute, which the hold reason shows).
# Uses err, progress, die, cleanup and the constants and globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares (checked
# from there, with every part followed, it does).
# shellcheck disable=SC2154,SC2034

declare -a exposure_ids=()  # the job's exposures, in order (parse_args)
queue_dir=""                # the job's scratch: one directory per exposure below it

# class_name CODE: the word the summary and the hold reason use for an exit code.
class_name() {
  case "$1" in
    "${EXIT_INTERNAL}") echo internal ;;
    "${EXIT_USAGE}") echo usage ;;
    "${EXIT_DOWNLOAD}") echo download ;;
    "${EXIT_UNPACK}") echo unpack ;;
    "${EXIT_EXTRACT}") echo extract ;;
    "${EXIT_UPLOAD}") echo upload ;;
    "${EXIT_CHECK}") echo check ;;
    130) echo interrupted ;;
    143) echo terminated ;;
    *) echo "exit-$1" ;;
  esac
}

# A step's subshell ends its own chunk workers and its half-stored catalogue, whatever
# ends it (the job's cleanup only knows the steps, not what runs inside them).
# Globals: reads worker_pids, upload_part.
step_cleanup() {
  local status=$? pid
  trap - EXIT
  for pid in "${worker_pids[@]}"; do
    kill -- "-${pid}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if ((status != 0)) && [[ -n "${upload_part}" ]]; then
    remove_part "${upload_part}"
  fi
  exit "${status}"
}

# enter_exposure ID: the globals of one exposure, inside its step's subshell.
# Globals: reads queue_dir, source_spec; sets id, work_dir, fz_path, final, catalogue,
# worker_pids, upload_part.
enter_exposure() {
  id="$1"
  work_dir="${queue_dir}/${id}"
  worker_pids=()
  upload_part=""
  if [[ "${source_spec}" == cadc:* ]]; then
    fz_path="${work_dir}/${id}.fits.fz"
  else
    fz_path="${source_spec}/${id}.fits.fz"
  fi
  catalogue="${work_dir}/${id}.stored.cat"
  name_catalogue
  trap step_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The steps, each run as `(step ID) &`. fetch: skip (a .skip marker) or download.
fetch_step() {
  enter_exposure "$1"
  mkdir -p -- "${work_dir}"
  if already_catalogued; then
    progress "${final} is there: already catalogued by pipeline ${pipeline}; nothing to do"
    touch "${work_dir}/.skip"
    exit 0
  fi
  download
}

# extract: unpack and extract into ID.stored.cat, then free the exposure's scratch.
extract_step() {
  enter_exposure "$1"
  cd "${work_dir}" || die "${EXIT_INTERNAL}" "cannot enter ${work_dir}"
  list_images
  extract_all
  check_catalogue
  add_provenance
  [[ "${source_spec}" != cadc:* ]] || rm -f -- "${fz_path}"
  rm -f -- chunk-*
}

upload_step() {
  enter_exposure "$1"
  upload
  rm -rf -- "${work_dir}"
}

# Each step leads its own process group (set -m) so the job's cleanup ends it whole.
# Globals: appends to worker_pids; sets step_pid.
start_step() {
  set -m
  ("$@") &
  step_pid=$!
  set +m
  worker_pids+=("${step_pid}")
}

# finish_step PID: waits for a step; its status in step_status.
finish_step() {
  step_status=0
  wait "$1" || step_status=$?
}

# Summary on stderr, and in the job's ClassAd when HTCondor's chirp is there (best effort:
# the exit code and the .err say it anyway).
# Globals: reads exposure_ids, outcome.
report_outcomes() {
  local i failures="" line=""
  for i in "${!exposure_ids[@]}"; do
    line+="${line:+, }${exposure_ids[i]} ${outcome[i]}"
    [[ "${outcome[i]}" != failed* ]] || failures+="${failures:+, }${exposure_ids[i]} ${outcome[i]#failed }"
  done
  echo "${PROG}: ${#exposure_ids[@]} exposures: ${line}" >&2
  [[ -n "${failures}" ]] || return 0
  echo "${PROG}: failed: ${failures}" >&2
  local chirp
  chirp="$(command -v condor_chirp || true)"
  # Off PATH in the packages: in HTCondor's LIBEXEC.
  if [[ -z "${chirp}" ]] && command -v condor_config_val >/dev/null; then
    chirp="$(condor_config_val LIBEXEC 2>/dev/null || true)/condor_chirp"
    [[ -x "${chirp}" ]] || chirp=""
  fi
  if [[ -n "${chirp}" && -n "${_CONDOR_SCRATCH_DIR:-}" ]]; then
    timeout 30 "${chirp}" set_job_attr CatalogueFailures "\"${failures}\"" >/dev/null 2>&1 || true
  fi
}

# catalogue_queue: the overlapped run of every exposure; exits with the first failure's code.
# Globals: reads exposure_ids; sets queue_dir, worker_pids, upload_part, outcome.
catalogue_queue() {
  local base="${_CONDOR_SCRATCH_DIR:-${TMPDIR:-/tmp}}" n="${#exposure_ids[@]}" i first=0
  queue_dir="$(mktemp -d "${base}/catalogue-${exposure_ids[0]}+$((n - 1)).XXXXXX")" ||
    die "${EXIT_INTERNAL}" "cannot create a work directory under ${base}"
  work_dir="${queue_dir}"
  declare -g -a outcome=()
  local fetch_pid upload_pid="" upload_i="" step_pid step_status
  start_step fetch_step "${exposure_ids[0]}"
  fetch_pid="${step_pid}"
  for ((i = 0; i < n; i++)); do
    finish_step "${fetch_pid}"
    local fetched="${step_status}"
    if ((i + 1 < n)); then
      start_step fetch_step "${exposure_ids[i + 1]}"
      fetch_pid="${step_pid}"
    fi
    if ((fetched != 0)); then
      outcome[i]="failed $(class_name "${fetched}") (exit ${fetched})"
      rm -rf -- "${queue_dir:?}/${exposure_ids[i]}"
      continue
    fi
    if [[ -e "${queue_dir}/${exposure_ids[i]}/.skip" ]]; then
      outcome[i]="already catalogued"
      continue
    fi
    start_step extract_step "${exposure_ids[i]}"
    finish_step "${step_pid}"
    if ((step_status != 0)); then
      outcome[i]="failed $(class_name "${step_status}") (exit ${step_status})"
      rm -rf -- "${queue_dir:?}/${exposure_ids[i]}"
      continue
    fi
    [[ -z "${upload_pid}" ]] || finish_upload "${upload_pid}" "${upload_i}"
    # The part's name is the one upload() makes ($$ is the job's, in a subshell too): the
    # job's cleanup removes it if the job is ended mid-upload.
    upload_part="${dest_spec}/.${exposure_ids[i]}.cat.part-${HOSTNAME:-host}-$$"
    start_step upload_step "${exposure_ids[i]}"
    upload_pid="${step_pid}" upload_i="${i}"
  done
  [[ -z "${upload_pid}" ]] || finish_upload "${upload_pid}" "${upload_i}"
  worker_pids=()
  report_outcomes
  for i in "${!outcome[@]}"; do
    if [[ "${outcome[i]}" == failed* ]]; then
      first="${outcome[i]##*exit }"
      first="${first%)}"
      exit "${first}"
    fi
  done
  exit 0
}

# finish_upload PID I: waits for exposure I's upload and records its outcome.
# Globals: sets outcome, upload_part.
finish_upload() {
  finish_step "$1"
  upload_part=""
  if ((step_status == 0)); then
    outcome[$2]="stored"
  else
    outcome[$2]="failed $(class_name "${step_status}") (exit ${step_status})"
  fi
}
