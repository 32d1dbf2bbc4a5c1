#!/usr/bin/env bash
#
# do_catalogue.bash ID: the CANFAR batch tutorial's catalogue pipeline for one CFHT MegaCam
# exposure, made safe to run as one of thousands of HTCondor jobs:
#   download ID.fits.fz (cadcget, or a local directory) -> read each CCD's zero point from
#   its header -> unpack (funpack) -> detect sources (source-extractor, the CCDs in parallel
#   over the cores) -> one catalogue, checked, headed by what made it -> upload it whole as
#   ID.P.cat, P the pipeline's identity (ID.cat when run by hand without one) (vcp + vmv, or
#   a local directory), or leave nothing there.
# A job whose pipeline already stored ID.P.cat does nothing: a released or re-run job never
# does the work twice.
# Run `do_catalogue.bash --help` for the settings and exit codes.
#
# This file holds the constants, the shared state, the messages, the cleanup and the order of
# the steps; the steps themselves are in parts beside it, sourced at start:
#   catalogue-settings.bash  arguments, settings, certificate, configuration, tools
#   catalogue-transfer.bash  download and upload, bounded and retried
#   catalogue-headers.bash   the exposure's image HDUs and each CCD's zero point and seeing
#   catalogue-extract.bash   funpack and SExtractor over the CCDs in parallel, the merge
#   catalogue-check.bash     the catalogue checked before it is stored
#   catalogue-queue.bash     several exposures in one job, downloads and uploads overlapped
# The parts travel with it: installed beside it (install-pipeline.sh), and sent with each job
# (the submit file's transfer_input_files), since HTCondor copies only what it is told to
# into the job's scratch directory.

set -Eeuo pipefail

readonly PROG="do_catalogue.bash"
readonly INSTALLED_DIR="/usr/local/share/canfar-batch/pipeline"
# CFHT file ids: the odometer (exposure) number, 6 to 8 digits (MegaCam's are 7 today), then
# one lowercase letter for the file type (o raw, p Elixir-processed, b bias, f flat, ...).
readonly ID_PATTERN='^[0-9]{6,8}[a-z]$'

readonly EXIT_INTERNAL=1 EXIT_USAGE=2 EXIT_DOWNLOAD=3 EXIT_UNPACK=4 EXIT_EXTRACT=5 EXIT_UPLOAD=6
readonly EXIT_CHECK=7

# Work is cut into about this many chunks of CCDs per job: enough to balance the jobs and
# report progress, few enough that starting funpack and source-extractor stays cheap.
readonly CHUNKS_PER_JOB=2
readonly VOS_RE='^vos:[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$'
# domain/pipeline-identity.ts: 12 lowercase hex digits of the hash of what decides a
# catalogue's content. domain/image-name.ts: the worker image's name.
readonly PIPELINE_RE='^[0-9a-f]{12}$'
readonly IMAGE_RE='^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$'
readonly PARTS=(catalogue-settings.bash catalogue-transfer.bash catalogue-headers.bash catalogue-extract.bash catalogue-check.bash catalogue-queue.bash)

# The state the steps share, set once each (the functions say which they read and set):
id=""                # the exposure, from the argument
source_spec=""       # cadc:ARCHIVE or an absolute local directory
dest_spec=""         # vos:CONTAINER or an absolute local directory
jobs="" download_timeout="" upload_timeout="" retries="" retry_delay=""  # the settings
pipeline=""          # the pipeline's identity P, from CATALOGUE_PIPELINE; empty: run by hand
image=""             # the worker image, from CATALOGUE_IMAGE, for the provenance header
tool_versions=""     # "source-extractor X; funpack Y", as the tools report themselves
declare -a cadc_cert=() vos_cert=()  # the tools' certificate options; empty: ~/.ssl/cadcproxy.pem
script_dir=""        # where this script really is (through the /usr/local/bin link)
config_dir=""        # where catalogue.sex and the rest were found
sextractor=""        # source-extractor (Debian, Ubuntu) or sex (EPEL on Rocky)
work_dir=""          # the job's own directory, removed on exit
fz_path=""           # the compressed exposure
declare -a ext_numbers=()  # its image HDUs
# For the i-th image: "MAG_ZEROPOINT SEEING_FWHM", pixels, the catalogue's "# zero point:" line.
declare -a ccd_settings=() ccd_pixels=() zero_point_notes=()
catalogue=""         # the merged catalogue in work_dir
final=""             # where it is stored
# What the cleanup trap undoes: running chunk workers, a half-stored catalogue.
declare -a worker_pids=()
upload_part=""

usage() {
  cat >&2 <<EOF
usage: ${PROG} ID [ID...]
       ${PROG} --help

Makes the source catalogue of CFHT exposure ID and stores it at CATALOGUE_DEST as ID.P.cat,
P the pipeline's identity (CATALOGUE_PIPELINE), or as ID.cat without one. The catalogue
starts with '# canfar-batch ...' lines saying what made it (exposure, pipeline, image, tool
versions, UTC time), then one '# zero point: ...' line per CCD (its magnitudes are
calibrated with the CCD's Elixir zero point where the header has one), then SExtractor's
header; it is checked before it is stored. With CATALOGUE_PIPELINE set, an ID.P.cat
already there means the work is done: the job exits 0 without downloading.
ID is a CFHT file id: 6-8 digits then one lowercase letter (e.g. 1056213p), matching
${ID_PATTERN}.
Several IDs are catalogued in order, each with its own outcome: the next exposure downloads
while one is extracted (at most one ahead: scratch for about two exposures), and a
catalogue uploads while the next extracts. One failure does not stop the others; the job
then exits with the first failed exposure's code below and names every failed exposure with
its class (download, unpack, extract, upload, ...) on stderr. A re-run skips the exposures
already stored (with CATALOGUE_PIPELINE set), so only the failed ones run again.

Environment:
  CATALOGUE_DEST              required: vos:CONTAINER (uploaded with vcp, then vmv into
                              place) or an existing local directory
  CATALOGUE_PIPELINE          the pipeline's identity: 12 lowercase hex digits (set by the
                              submission); unset: a run by hand, stored as ID.cat
  CATALOGUE_IMAGE             the worker image's name, recorded in the catalogue's header
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
/tmp, removed on exit. Configuration (catalogue.sex, catalogue.param, default.conv, default.nnw) is read
beside this script, else from ${INSTALLED_DIR}.

Exit codes:
  0  catalogue stored at CATALOGUE_DEST/ID.P.cat (ID.cat), or already there
  ${EXIT_INTERNAL}  internal or environment error (missing tool or configuration)
  ${EXIT_USAGE}  bad arguments or settings
  ${EXIT_DOWNLOAD}  download failed (ID.fits.fz missing or unreachable)
  ${EXIT_UNPACK}  decompression failed (funpack: corrupt or not a FITS file)
  ${EXIT_EXTRACT}  source extraction failed (source-extractor)
  ${EXIT_UPLOAD}  upload failed (nothing is left at the destination)
  ${EXIT_CHECK}  catalogue check failed (blank or implausible: nothing is stored)
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

# The parts, beside this script (the repository, the installed copy, a job's scratch
# directory), else the installed ones, as the configuration is found.
# Globals: reads PARTS, INSTALLED_DIR; sets script_dir.
load_parts() {
  script_dir="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
  local dir="${script_dir}" part
  [[ -f "${dir}/${PARTS[0]}" ]] || dir="${INSTALLED_DIR}"
  for part in "${PARTS[@]}"; do
    [[ -r "${dir}/${part}" ]] ||
      die "${EXIT_INTERNAL}" "no ${part} beside ${script_dir} nor in ${INSTALLED_DIR}: install the pipeline first"
  done
  # One line each, so that shellcheck follows every part from here.
  # shellcheck source-path=SCRIPTDIR source=catalogue-settings.bash
  source "${dir}/catalogue-settings.bash"
  # shellcheck source-path=SCRIPTDIR source=catalogue-transfer.bash
  source "${dir}/catalogue-transfer.bash"
  # shellcheck source-path=SCRIPTDIR source=catalogue-headers.bash
  source "${dir}/catalogue-headers.bash"
  # shellcheck source-path=SCRIPTDIR source=catalogue-extract.bash
  source "${dir}/catalogue-extract.bash"
  # shellcheck source-path=SCRIPTDIR source=catalogue-check.bash
  source "${dir}/catalogue-check.bash"
  # shellcheck source-path=SCRIPTDIR source=catalogue-queue.bash
  source "${dir}/catalogue-queue.bash"
}

# Globals: reads id, _CONDOR_SCRATCH_DIR, TMPDIR; sets work_dir.
make_work_dir() {
  local base="${_CONDOR_SCRATCH_DIR:-${TMPDIR:-/tmp}}"
  work_dir="$(mktemp -d "${base}/catalogue-${id}.XXXXXX")" ||
    die "${EXIT_INTERNAL}" "cannot create a work directory under ${base}"
}

# Undoes whatever a failed or interrupted run left behind; a finished run has nothing left.
# Globals: reads worker_pids, upload_part, work_dir.
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

main() {
  load_parts
  parse_args "$@"
  find_config
  require_tools
  trap cleanup EXIT
  # Any failure not mapped to its own code above is an internal one, never mistaken for
  # another step's code by whoever reads the job's exit status.
  trap 'exit "${EXIT_INTERNAL}"' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Several exposures: each with its own outcome, overlapped (catalogue-queue.bash).
  ((${#exposure_ids[@]} == 1)) || catalogue_queue
  name_catalogue
  if already_catalogued; then
    progress "${final} is there: already catalogued by pipeline ${pipeline}; nothing to do"
    exit 0
  fi
  make_work_dir
  cd "${work_dir}"
  download
  list_images
  extract_all
  check_catalogue
  add_provenance
  upload
}

main "$@"
