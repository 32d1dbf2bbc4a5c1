#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): reads and checks the arguments and
# settings, the job's certificate, the configuration files and the tools, before anything
# is touched. Uses die, usage and the constants and globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares and the
# other parts read (checked from there, with every part followed, it does).
# shellcheck disable=SC2154,SC2034

# check_count NAME VALUE MIN: dies unless VALUE is a whole number >= MIN.
# Globals: none.
check_count() {
  if [[ ! "$2" =~ ^[0-9]{1,9}$ ]] || (("$2" < "$3")); then
    die "${EXIT_USAGE}" "$1 '$2' must be a whole number >= $3"
  fi
}

# read_location NAME VALUE FORM: a remote FORM (scheme:..., which the caller checks
# further) as it is, or an existing local directory made absolute; dies naming NAME and FORM
# otherwise. A trailing / is dropped.
# Globals: sets location.
read_location() {
  local name="$1" value="${2%/}" form="$3"
  if [[ "${value}" == "${form%%:*}":* ]]; then
    location="${value}"
  elif [[ -d "${value}" ]]; then
    location="$(cd "${value}" && pwd)"
  else
    die "${EXIT_USAGE}" "${name} '${value}' is neither ${form} nor an existing directory"
  fi
}

# parse_args "$@": validates every argument and setting before anything is touched.
# Globals: reads ID_PATTERN, VOS_RE, the CATALOGUE_* variables and X509_USER_PROXY;
# sets exposure_ids, id (one exposure), source_spec, dest_spec, jobs, download_timeout, upload_timeout, retries,
# retry_delay (and, through use_job_certificate, cadc_cert and vos_cert).
parse_args() {
  if [[ $# -eq 1 && ("$1" == "--help" || "$1" == "-h") ]]; then
    usage
    exit 0
  fi
  (($# >= 1)) || { usage; die "${EXIT_USAGE}" "expected one argument ID or more, got $#"; }
  local arg
  for arg in "$@"; do
    [[ "${arg}" =~ ${ID_PATTERN} ]] ||
      die "${EXIT_USAGE}" "ID '${arg}' is not a CFHT file id (6-8 digits then one lowercase letter, e.g. 1056213p)"
  done
  [[ "$(printf '%s\n' "$@" | sort | uniq -d)" == "" ]] ||
    die "${EXIT_USAGE}" "IDs repeated in one job: $(printf '%s\n' "$@" | sort | uniq -d | tr '\n' ' ')"
  exposure_ids=("$@")
  (($# > 1)) || id="$1"

  local location=""
  read_location CATALOGUE_SOURCE "${CATALOGUE_SOURCE:-cadc:CFHT}" cadc:ARCHIVE
  source_spec="${location}"
  [[ "${source_spec}" != cadc:* || "${source_spec}" =~ ^cadc:[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
    die "${EXIT_USAGE}" "CATALOGUE_SOURCE '${source_spec}' must be cadc:ARCHIVE (e.g. cadc:CFHT)"

  local dest="${CATALOGUE_DEST:-}"
  [[ -n "${dest%/}" ]] || die "${EXIT_USAGE}" "CATALOGUE_DEST is not set: give vos:CONTAINER or a local directory"
  read_location CATALOGUE_DEST "${dest}" vos:CONTAINER
  dest_spec="${location}"
  # The config's rule (domain/vospace.ts), so what it accepts never fails here.
  [[ "${dest_spec}" != vos:* || ("${dest_spec}" =~ ${VOS_RE} && "${dest_spec}" != *..* && "${dest_spec}/" != */./*) ]] ||
    die "${EXIT_USAGE}" "CATALOGUE_DEST '${dest_spec}' must be vos:CONTAINER (letters, digits, _ . + - between slashes, no '..')"

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
  pipeline="${CATALOGUE_PIPELINE:-}"
  [[ -z "${pipeline}" || "${pipeline}" =~ ${PIPELINE_RE} ]] ||
    die "${EXIT_USAGE}" "CATALOGUE_PIPELINE '${pipeline}' must be a pipeline identity: 12 lowercase hex digits (e.g. 3fa9c0d21b7e)"
  image="${CATALOGUE_IMAGE:-}"
  [[ -z "${image}" || "${image}" =~ ${IMAGE_RE} ]] ||
    die "${EXIT_USAGE}" "CATALOGUE_IMAGE '${image}' must be an image name: up to 255 letters, digits, '.', '_' or '-', starting with a letter or digit"
  use_job_certificate
}

# A batch job authenticates with the certificate its submission made, never with one left
# in the image.
# Globals: reads X509_USER_PROXY; sets cadc_cert and vos_cert (empty: the tools' default).
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

# The SExtractor configuration: beside the script, else the installed copy.
# Globals: reads script_dir, INSTALLED_DIR; sets config_dir.
find_config() {
  if [[ -f "${script_dir}/catalogue.sex" ]]; then
    config_dir="${script_dir}"
  elif [[ -f "${INSTALLED_DIR}/catalogue.sex" ]]; then
    config_dir="${INSTALLED_DIR}"
  else
    die "${EXIT_INTERNAL}" "no catalogue.sex beside ${script_dir} nor in ${INSTALLED_DIR}: install the pipeline first"
  fi
  local f
  for f in catalogue.sex catalogue.param default.conv default.nnw merge-catalogues.awk; do
    [[ -r "${config_dir}/${f}" ]] || die "${EXIT_INTERNAL}" "missing ${config_dir}/${f}"
  done
}

# Globals: reads source_spec, dest_spec, pipeline; sets sextractor (source-extractor on
# Debian and Ubuntu, sex from EPEL on Rocky) and tool_versions.
require_tools() {
  local tool
  sextractor="$(command -v source-extractor || command -v sex || true)"
  [[ -n "${sextractor}" ]] || die "${EXIT_INTERNAL}" "SExtractor is not on PATH (neither 'source-extractor' nor 'sex')"
  local -a tools=(funpack timeout awk)
  [[ "${source_spec}" == cadc:* ]] && tools+=(cadcget)
  [[ "${dest_spec}" == vos:* ]] && tools+=(vcp vmv vrm)
  [[ "${dest_spec}" == vos:* && -n "${pipeline}" ]] && tools+=(vls)
  for tool in "${tools[@]}"; do
    command -v "${tool}" >/dev/null || die "${EXIT_INTERNAL}" "'${tool}' is not on PATH"
  done
  tool_versions="source-extractor $(sextractor_version); funpack $(funpack_version)"
}

# The versions the tools report at run time (the image's packages may differ from what the
# build recorded after an update): "2.25.0", or "unknown" from a tool that will not say.
# Globals: reads sextractor.
sextractor_version() {
  local text
  text="$(timeout 10 "${sextractor}" --version </dev/null 2>&1)" || true
  awk '{ for (i = 1; i < NF; i++) if ($i == "version") { print $(i + 1); found = 1; exit } }
    END { if (!found) print "unknown" }' <<<"${text}"
}

# funpack -V prints "1.7.0 (Dec 2013) CFITSIO version 4.020": "1.7.0 (CFITSIO 4.020)", the
# library being what decompresses.
funpack_version() {
  local text
  text="$(timeout 10 funpack -V </dev/null 2>&1)" || true
  awk 'NR == 1 {
      v = ($1 ~ /^[0-9][0-9.]*$/) ? $1 : "unknown"
      for (i = 1; i < NF; i++) if ($i == "version") c = $(i + 1)
      print v (c == "" ? "" : " (CFITSIO " c ")")
    }
    END { if (NR == 0) print "unknown" }' <<<"${text}"
}
