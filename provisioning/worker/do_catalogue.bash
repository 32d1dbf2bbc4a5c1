#!/usr/bin/env bash
#
# do_catalogue.bash ID: the CANFAR batch tutorial's catalogue pipeline for one CFHT MegaCam
# exposure, made safe to run as one of thousands of HTCondor jobs:
#   download ID.fits.fz (cadcget, or a local directory) -> unpack (funpack) -> detect sources
#   (source-extractor, the CCDs in parallel over the cores) -> one catalogue ID.cat ->
#   upload it whole (vcp + vmv, or a local directory), or leave nothing there.
# Run `do_catalogue.bash --help` for the settings and exit codes.

set -Eeuo pipefail

readonly PROG="do_catalogue.bash"
readonly INSTALLED_DIR="/usr/local/share/canfar-batch/pipeline"
# CFHT file ids: the odometer (exposure) number, 6 to 8 digits (MegaCam's are 7 today), then
# one lowercase letter for the file type (o raw, p Elixir-processed, b bias, f flat, ...).
readonly ID_PATTERN='^[0-9]{6,8}[a-z]$'

readonly EXIT_INTERNAL=1
readonly EXIT_USAGE=2
readonly EXIT_DOWNLOAD=3
readonly EXIT_UNPACK=4
readonly EXIT_EXTRACT=5
readonly EXIT_UPLOAD=6

# Work is cut into about this many chunks of CCDs per job: enough to balance the jobs and
# report progress, few enough that starting funpack and source-extractor stays cheap.
readonly CHUNKS_PER_JOB=2

# State shared with the cleanup trap.
id=""
work_dir=""
upload_part=""
final=""
declare -a worker_pids=()
readonly VOS_RE='^vos:[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$'
# SExtractor's command: Debian and Ubuntu install it as source-extractor, EPEL's package
# (Rocky) may install it as sex. Set by require_tools.
sextractor=""
# The CADC tools' certificate options: empty means their default, ~/.ssl/cadcproxy.pem.
declare -a cadc_cert=() vos_cert=()

usage() {
  cat >&2 <<EOF
usage: ${PROG} ID
       ${PROG} --help

Makes the source catalogue ID.cat of CFHT exposure ID and stores it at CATALOGUE_DEST.
ID is a CFHT file id: 6-8 digits then one lowercase letter (e.g. 1056213p), matching
${ID_PATTERN}.

Environment:
  CATALOGUE_DEST              required: vos:CONTAINER (uploaded with vcp, then vmv into
                              place) or an existing local directory
  CATALOGUE_SOURCE            cadc:ARCHIVE (default cadc:CFHT, downloaded with cadcget) or a
                              local directory holding ID.fits.fz
  CATALOGUE_JOBS              CCD extractions run at once (default: nproc, i.e. all
                              cores, or OMP_NUM_THREADS, which HTCondor sets to the
                              job's request_cpus)
  CATALOGUE_DOWNLOAD_TIMEOUT  seconds per download attempt (default 1800)
  CATALOGUE_UPLOAD_TIMEOUT    seconds per upload command (default 600)
  CATALOGUE_RETRIES           attempts per transfer (default 3)
  CATALOGUE_RETRY_DELAY       seconds before the first retry, doubled each time (default 30)
  X509_USER_PROXY             the CADC proxy certificate for cadcget, vcp, vmv and vrm (set
                              by HTCondor from the submit file's x509userproxy); unset,
                              they use ~/.ssl/cadcproxy.pem
Work happens in a new directory under \$_CONDOR_SCRATCH_DIR (in batch), else \$TMPDIR or
/tmp, removed on exit. Configuration (catalogue.sex, catalogue.param, default.conv) is read
beside this script, else from ${INSTALLED_DIR}.

Exit codes:
  0  catalogue stored at CATALOGUE_DEST/ID.cat
  ${EXIT_INTERNAL}  internal or environment error (missing tool or configuration)
  ${EXIT_USAGE}  bad arguments or settings
  ${EXIT_DOWNLOAD}  download failed (ID.fits.fz missing or unreachable)
  ${EXIT_UNPACK}  decompression failed (funpack: corrupt or not a FITS file)
  ${EXIT_EXTRACT}  source extraction failed (source-extractor)
  ${EXIT_UPLOAD}  upload failed (nothing is left at the destination)
EOF
}

err() {
  echo "${PROG}${id:+ ${id}}: $*" >&2
}

progress() {
  echo "${PROG} ${id:-}: $*" >&2
}

die() {
  local code="$1"
  shift
  err "$*"
  exit "${code}"
}

# check_count NAME VALUE MIN: dies unless VALUE is a whole number >= MIN.
check_count() {
  if [[ ! "$2" =~ ^[0-9]{1,9}$ ]] || (("$2" < "$3")); then
    die "${EXIT_USAGE}" "$1 '$2' must be a whole number >= $3"
  fi
}

# Validates every argument and setting before anything is touched.
parse_args() {
  if [[ $# -eq 1 && ( "$1" == "--help" || "$1" == "-h" ) ]]; then
    usage
    exit 0
  fi
  if [[ $# -ne 1 ]]; then
    usage
    die "${EXIT_USAGE}" "expected exactly one argument ID, got $#"
  fi
  if [[ ! "$1" =~ ${ID_PATTERN} ]]; then
    die "${EXIT_USAGE}" "ID '$1' is not a CFHT file id (6-8 digits then one lowercase letter, e.g. 1056213p)"
  fi
  id="$1"

  source_spec="${CATALOGUE_SOURCE:-cadc:CFHT}"
  source_spec="${source_spec%/}"
  if [[ "${source_spec}" == cadc:* ]]; then
    [[ "${source_spec}" =~ ^cadc:[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
      die "${EXIT_USAGE}" "CATALOGUE_SOURCE '${source_spec}' must be cadc:ARCHIVE (e.g. cadc:CFHT)"
  elif [[ -d "${source_spec}" ]]; then
    source_spec="$(cd "${source_spec}" && pwd)"
  else
    die "${EXIT_USAGE}" "CATALOGUE_SOURCE '${source_spec}' is neither cadc:ARCHIVE nor an existing directory"
  fi

  dest_spec="${CATALOGUE_DEST:-}"
  dest_spec="${dest_spec%/}"
  if [[ -z "${dest_spec}" ]]; then
    die "${EXIT_USAGE}" "CATALOGUE_DEST is not set: give vos:CONTAINER or a local directory"
  elif [[ "${dest_spec}" == vos:* ]]; then
    # The config's rule (domain/vospace.ts), so what it accepts never fails here.
    [[ "${dest_spec}" =~ ${VOS_RE} && "${dest_spec}" != *..* && "${dest_spec}/" != */./* ]] ||
      die "${EXIT_USAGE}" "CATALOGUE_DEST '${dest_spec}' must be vos:CONTAINER (letters, digits, _ . + - between slashes, no '..')"
  elif [[ -d "${dest_spec}" ]]; then
    dest_spec="$(cd "${dest_spec}" && pwd)"
  else
    die "${EXIT_USAGE}" "CATALOGUE_DEST '${dest_spec}' is neither vos:CONTAINER nor an existing directory"
  fi

  # nproc honours OMP_NUM_THREADS, which HTCondor sets to the job's request_cpus: on a
  # worker bigger than one job, the job uses only the cores it was given.
  jobs="${CATALOGUE_JOBS:-$(nproc)}"
  download_timeout="${CATALOGUE_DOWNLOAD_TIMEOUT:-1800}"
  upload_timeout="${CATALOGUE_UPLOAD_TIMEOUT:-600}"
  retries="${CATALOGUE_RETRIES:-3}"
  retry_delay="${CATALOGUE_RETRY_DELAY:-30}"
  check_count CATALOGUE_JOBS "${jobs}" 1
  check_count CATALOGUE_DOWNLOAD_TIMEOUT "${download_timeout}" 1
  check_count CATALOGUE_UPLOAD_TIMEOUT "${upload_timeout}" 1
  check_count CATALOGUE_RETRIES "${retries}" 1
  check_count CATALOGUE_RETRY_DELAY "${retry_delay}" 0
  use_job_certificate
}

# Sets cadc_cert and vos_cert from X509_USER_PROXY: a batch job authenticates with the
# certificate its submission made, never with one left in the image.
use_job_certificate() {
  [[ -n "${X509_USER_PROXY:-}" ]] || return 0
  [[ -f "${X509_USER_PROXY}" && -r "${X509_USER_PROXY}" ]] ||
    die "${EXIT_USAGE}" "X509_USER_PROXY '${X509_USER_PROXY}' is not a readable file"
  if command -v openssl >/dev/null && ! openssl x509 -checkend 0 -noout -in "${X509_USER_PROXY}" >/dev/null 2>&1; then
    die "${EXIT_USAGE}" "the job's certificate X509_USER_PROXY '${X509_USER_PROXY}' has expired or is not a certificate: submit again for a fresh one"
  fi
  cadc_cert=(--cert "${X509_USER_PROXY}")
  vos_cert=(--certfile "${X509_USER_PROXY}")
}

find_config() {
  local here
  here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
  if [[ -f "${here}/catalogue.sex" ]]; then
    config_dir="${here}"
  elif [[ -f "${INSTALLED_DIR}/catalogue.sex" ]]; then
    config_dir="${INSTALLED_DIR}"
  else
    die "${EXIT_INTERNAL}" "no catalogue.sex beside ${here} nor in ${INSTALLED_DIR}: install the pipeline first"
  fi
  local f
  for f in catalogue.sex catalogue.param default.conv merge-catalogues.awk; do
    [[ -r "${config_dir}/${f}" ]] || die "${EXIT_INTERNAL}" "missing ${config_dir}/${f}"
  done
}

require_tools() {
  local tool
  sextractor="$(command -v source-extractor || command -v sex || true)"
  [[ -n "${sextractor}" ]] || die "${EXIT_INTERNAL}" "SExtractor is not on PATH (neither 'source-extractor' nor 'sex')"
  local -a tools=(funpack timeout awk)
  [[ "${source_spec}" == cadc:* ]] && tools+=(cadcget)
  [[ "${dest_spec}" == vos:* ]] && tools+=(vcp vmv vrm)
  for tool in "${tools[@]}"; do
    command -v "${tool}" >/dev/null || die "${EXIT_INTERNAL}" "'${tool}' is not on PATH"
  done
}

make_work_dir() {
  local base="${_CONDOR_SCRATCH_DIR:-${TMPDIR:-/tmp}}"
  work_dir="$(mktemp -d "${base}/catalogue-${id}.XXXXXX")" ||
    die "${EXIT_INTERNAL}" "cannot create a work directory under ${base}"
}

# Undoes whatever a failed or interrupted run left behind; a finished run has nothing left.
cleanup() {
  local status=$?
  trap - EXIT
  local pid tries
  for pid in "${worker_pids[@]}"; do
    # Each worker leads its own process group (set -m): this ends its funpack or
    # source-extractor too.
    kill -- "-${pid}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  # A worker's tools may outlive the worker by a moment: see the groups gone (or kill
  # them) before removing the files they write.
  for pid in "${worker_pids[@]}"; do
    for ((tries = 0; tries < 50; tries++)); do
      kill -0 -- "-${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-${pid}" 2>/dev/null || true
  done
  if [[ -n "${upload_part}" ]]; then
    remove_part "${upload_part}"
  fi
  if [[ -n "${work_dir}" ]]; then
    rm -rf -- "${work_dir}"
  fi
  exit "${status}"
}

# with_retries TIMEOUT PREPARE CMD...: runs PREPARE ATTEMPT (a function, or :), then the
# command CMD under a timeout, up to $retries times, waiting $retry_delay seconds, doubled
# each time, between attempts. cadcget exits 255 on any error and vcp retries I/O errors
# for ever, so only the timeout and the count bound them.
with_retries() {
  local limit="$1" prepare="$2"
  shift 2
  local attempt=1 delay="${retry_delay}" status
  while :; do
    "${prepare}" "${attempt}"
    if timeout --kill-after=10 "${limit}" "$@"; then
      return 0
    else
      status=$?
    fi
    if ((status == 124 || status == 137)); then
      err "'$1' timed out after ${limit} s (attempt ${attempt}/${retries})"
    else
      err "'$1' failed with exit ${status} (attempt ${attempt}/${retries})"
    fi
    ((attempt < retries)) || return "${status}"
    sleep "${delay}"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

# A retried download starts from nothing.
remove_partial_download() {
  rm -f -- "${fz_path}"
}

# Sets fz_path to the compressed exposure, downloaded into the work directory or read in place.
download() {
  if [[ "${source_spec}" == cadc:* ]]; then
    fz_path="${work_dir}/${id}.fits.fz"
    progress "downloading ${source_spec}/${id}.fits.fz"
    with_retries "${download_timeout}" remove_partial_download \
      cadcget "${cadc_cert[@]}" -o "${fz_path}" "${source_spec}/${id}.fits.fz" ||
      die "${EXIT_DOWNLOAD}" "download of ${source_spec}/${id}.fits.fz failed"
  else
    fz_path="${source_spec}/${id}.fits.fz"
  fi
  [[ -f "${fz_path}" && -r "${fz_path}" && -s "${fz_path}" ]] ||
    die "${EXIT_DOWNLOAD}" "${fz_path} is missing, unreadable or empty"
}

# Sets ext_numbers to the HDU numbers (funpack -E numbering: 0 = primary) holding images.
list_images() {
  local listing
  listing="$(funpack -L "${fz_path}" 2>&1)" || die "${EXIT_UNPACK}" "funpack cannot read ${fz_path}: ${listing}"
  # funpack reads a truncated file without complaint (the missing bytes come back as
  # garbage pixels), but lists the size its headers promise: compare it with the real one.
  local promised actual
  promised="$(sed -n '1s/.*(\([0-9]*\) bytes)$/\1/p' <<<"${listing}")"
  actual="$(stat -L -c '%s' "${fz_path}")"
  # (A funpack that lists no size, should its format change, skips the check.)
  if [[ -n "${promised}" && "${promised}" != "${actual}" ]]; then
    die "${EXIT_UNPACK}" "${fz_path} is ${actual} bytes but its headers describe ${promised} bytes: truncated or corrupt"
  fi
  local images
  images="$(awk '$2 == "IMAGE" && $0 ~ /\[[0-9]+x[0-9]+/ { print $1 - 1 }' <<<"${listing}")"
  [[ -n "${images}" ]] || die "${EXIT_UNPACK}" "${fz_path} holds no image: ${listing}"
  mapfile -t ext_numbers <<<"${images}"
}

# extract_chunk N EXT...: unpacks extensions EXT... into one file and runs source-extractor
# over it, writing chunk-N.cat; exits with the pipeline's code for the step that failed.
extract_chunk() {
  local n="$1"
  shift
  local fits="${work_dir}/chunk-${n}.fits" list
  list="$(IFS=,; echo "$*")"
  if ! funpack -C -E "${list}" -O "${fits}" "${fz_path}" >"${work_dir}/chunk-${n}.log" 2>&1; then
    err "funpack of extensions ${list} failed: $(grep -v '^ *$' "${work_dir}/chunk-${n}.log" | tail -n 5)"
    return "${EXIT_UNPACK}"
  fi
  if ! "${sextractor}" "${fits}" -c "${config_dir}/catalogue.sex" \
    -PARAMETERS_NAME "${config_dir}/catalogue.param" -FILTER_NAME "${config_dir}/default.conv" \
    -CATALOG_NAME "${work_dir}/chunk-${n}.cat" -VERBOSE_TYPE QUIET >>"${work_dir}/chunk-${n}.log" 2>&1 ||
    [[ ! -s "${work_dir}/chunk-${n}.cat" ]]; then
    err "source-extractor on extensions ${list} failed: $(grep -v '^ *$' "${work_dir}/chunk-${n}.log" | tail -n 5)"
    return "${EXIT_EXTRACT}"
  fi
  rm -f -- "${fits}"
  touch "${work_dir}/chunk-${n}.done"
}

# Splits the images into near-equal consecutive chunks and runs them on a pool of $jobs.
extract_all() {
  local total="${#ext_numbers[@]}"
  local chunks=$((jobs * CHUNKS_PER_JOB))
  ((chunks > total)) && chunks="${total}"
  ((jobs == 1)) && chunks=1
  local -a first=() size=()
  local c start=0
  for ((c = 0; c < chunks; c++)); do
    first+=("${start}")
    size+=($(((total * (c + 1)) / chunks - start)))
    start=$(((total * (c + 1)) / chunks))
  done
  progress "${total} CCDs in ${chunks} chunks, ${jobs} at a time"

  local next=0 running=0 done_ccds=0 failure=0 status
  local -a counted=()
  # Job control puts each worker in its own process group, so cleanup can end it whole.
  set -m
  while ((next < chunks || running > 0)); do
    if ((failure == 0 && next < chunks && running < jobs)); then
      extract_chunk "${next}" "${ext_numbers[@]:first[next]:size[next]}" &
      worker_pids+=("$!")
      next=$((next + 1))
      running=$((running + 1))
      continue
    fi
    if ((running == 0)); then
      break
    fi
    if wait -n; then status=0; else status=$?; fi
    running=$((running - 1))
    if ((status != 0 && failure == 0)); then
      failure="${status}"
    fi
    for ((c = 0; c < next; c++)); do
      if [[ -z "${counted[c]:-}" && -e "${work_dir}/chunk-${c}.done" ]]; then
        counted[c]=1
        done_ccds=$((done_ccds + size[c]))
        progress "ccd ${done_ccds}/${total} done"
      fi
    done
  done
  set +m
  worker_pids=()
  if ((failure != 0)); then
    ((failure == EXIT_UNPACK || failure == EXIT_EXTRACT)) || failure="${EXIT_EXTRACT}"
    die "${failure}" "extraction stopped after ${done_ccds}/${total} CCDs"
  fi

  local -a merge_args=()
  for ((c = 0; c < chunks; c++)); do
    # EXT_NUMBER in a chunk counts from its first image; the whole file's counts from 1.
    merge_args+=("offset=${first[c]}" "${work_dir}/chunk-${c}.cat")
  done
  catalogue="${work_dir}/${id}.cat"
  awk -f "${config_dir}/merge-catalogues.awk" "${merge_args[@]}" >"${catalogue}" ||
    die "${EXIT_EXTRACT}" "merging the chunk catalogues failed"
}

remove_part() {
  if [[ "$1" == vos:* ]]; then
    timeout --kill-after=10 "${upload_timeout}" vrm "${vos_cert[@]}" "$1" >/dev/null 2>&1 ||
      err "could not remove $1 (if it exists, remove it by hand)"
  else
    rm -f -- "$1"
  fi
}

# A retried vcp starts from nothing, so a half-written part never survives a retry.
remove_part_before_retry() {
  if (("$1" > 1)); then
    remove_part "${upload_part}"
  fi
}

# VOSpace refuses to move onto an existing node (DuplicateNode): when a move fails, the old
# catalogue of an earlier run is removed before trying again, so a re-run replaces it.
remove_final_before_retry() {
  if (("$1" > 1)); then
    timeout --kill-after=10 "${upload_timeout}" vrm "${vos_cert[@]}" "${final}" >/dev/null 2>&1 || true
  fi
}

# The catalogue is written under a hidden name unique to this host and process, then
# renamed in one step, so readers and re-runs see the whole catalogue or none: a local
# rename is atomic; a VOSpace move (vmv) is one server-side operation, whereas a vcp
# straight to the final name could leave a truncated node after a timeout or a lost link.
upload() {
  final="${dest_spec}/${id}.cat"
  local part="${dest_spec}/.${id}.cat.part-${HOSTNAME:-host}-$$"
  progress "uploading to ${final}"
  upload_part="${part}"
  if [[ "${dest_spec}" == vos:* ]]; then
    with_retries "${upload_timeout}" remove_part_before_retry vcp "${vos_cert[@]}" "${catalogue}" "${part}" ||
      die "${EXIT_UPLOAD}" "upload to ${part} failed"
    with_retries "${upload_timeout}" remove_final_before_retry vmv "${vos_cert[@]}" "${part}" "${final}" ||
      die "${EXIT_UPLOAD}" "moving ${part} to ${final} failed"
  else
    with_retries "${upload_timeout}" : cp -- "${catalogue}" "${part}" ||
      die "${EXIT_UPLOAD}" "copy to ${part} failed"
    mv -f -- "${part}" "${final}" || die "${EXIT_UPLOAD}" "renaming ${part} to ${final} failed"
  fi
  upload_part=""
  progress "stored ${final} ($(awk '!/^#/ { n++ } END { print n + 0 }' "${catalogue}") sources)"
}

main() {
  parse_args "$@"
  find_config
  require_tools
  trap cleanup EXIT
  # Any failure not mapped to its own code above is an internal one, never mistaken for
  # another step's code by whoever reads the job's exit status.
  trap 'exit "${EXIT_INTERNAL}"' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM
  make_work_dir
  cd "${work_dir}"
  download
  list_images
  extract_all
  upload
}

main "$@"
