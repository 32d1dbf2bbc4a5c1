#!/usr/bin/env bash
# The CI preview of a pull (merge) request, shared by .github/workflows/preview.yml and
# .gitlab-ci.example.yml. Whatever happens it writes the comment to post, so a reviewer always
# learns the outcome from the comment, and exits with the job's status:
#
#   0  the preview is safe;  3  a step is flagged unsafe;
#   2  the head's stack configuration is refused;  1  anything else failed (an install, the
#      head's preview, the real `pulumi preview`): the comment says which, and shows the error.
#
#   preview-job.sh --stack NAME --base DIR --head DIR --comment FILE [--engine-stack ORG/PROJECT/STACK] [--install]
#
# A stack the base checkout has no Pulumi.NAME.yaml for is new: the head is compared with
# an empty stack (every resource a create). A base that does not render is said so and
# compared the same way: the pull request that fixes it must be able to pass.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly MARKER="<!-- canfar-batch-preview -->"
# Enough of an error to act on, small enough for a comment (GitHub's limit is 65536 chars).
readonly ERROR_LINES=60

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} --stack NAME --base DIR --head DIR --comment FILE [--engine-stack ORG/PROJECT/STACK] [--install]

Renders the stack from the base checkout, predicts the head's steps against it
(npm run preview), and with --engine-stack also runs the real pulumi preview of that
stack (credentials from the environment). Writes the markdown comment to FILE on every
outcome; exits 0 (safe), 3 (a step flagged unsafe), 2 (the head's configuration is
refused) or 1 (another failure, named in the comment).

  --install   run npm ci in both checkouts first
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

# fenced FILE: FILE's last ERROR_LINES lines in a code block whose fence is longer than any
# run of backticks in them, so an error message cannot end the block early.
fenced() {
  local text fence='```' run
  text="$(tail -n "${ERROR_LINES}" -- "$1")"
  while read -r run; do
    while ((${#fence} <= ${#run})); do fence+='`'; done
  done < <(grep -o '`\+' <<<"${text}" || true)
  printf '%s\n%s\n%s\n' "${fence}" "${text}" "${fence}"
}

# section TITLE FILE: a failure, said in one line and shown.
section() {
  printf '\n> [!WARNING]\n> %s\n\n' "$1"
  fenced "$2"
}

# Set once the comment's path is known, for on_exit.
COMMENT=""
WORK=""

# An unexpected failure of this script itself (set -e) still leaves a comment saying so.
on_exit() {
  local code=$?
  if ((code != 0)) && [[ -n "${COMMENT}" && ! -s "${COMMENT}" ]]; then
    printf '%s\n### canfar-batch preview\n\nThe preview job stopped unexpectedly (exit %s); see the job log.\n' "${MARKER}" "${code}" >"${COMMENT}"
  fi
  [[ -z "${WORK}" ]] || rm -rf -- "${WORK}"
}

main() {
  local stack="" base_dir="" head_dir="" comment="" engine_stack="" install=0
  while (($# > 0)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --install) install=1; shift ;;
      --stack | --base | --head | --comment | --engine-stack)
        if (($# < 2)) || [[ -z "$2" ]]; then usage; err "$1 needs a value"; exit 2; fi
        case "$1" in
          --stack) stack="$2" ;;
          --base) base_dir="$2" ;;
          --head) head_dir="$2" ;;
          --comment) comment="$2" ;;
          --engine-stack) engine_stack="$2" ;;
        esac
        shift 2 ;;
      *) usage; err "unknown argument '$1'"; exit 2 ;;
    esac
  done
  local name
  for name in stack base_dir head_dir comment; do
    [[ -n "${!name}" ]] || { usage; err "--${name%_dir} is required"; exit 2; }
  done
  [[ "${stack}" =~ ^[A-Za-z0-9._-]+$ ]] || { err "--stack '${stack}': expected letters, digits, '.', '_' or '-'"; exit 2; }
  base_dir="$(realpath -- "${base_dir}")"
  head_dir="$(realpath -- "${head_dir}")"
  mkdir -p -- "$(dirname -- "${comment}")"
  comment="$(realpath -- "${comment}")"

  local work
  work="$(mktemp -d)"
  WORK="${work}"
  COMMENT="${comment}"
  trap on_exit EXIT
  # What goes before the prediction (a new stack, a broken base) and after it (failures).
  local notes="${work}/notes.md" failures="${work}/failures.md" status=0
  : >"${notes}"
  : >"${failures}"
  : >"${comment}"

  if ((install)); then
    local dir
    for dir in "${base_dir}" "${head_dir}"; do
      local which="head"
      [[ "${dir}" != "${base_dir}" ]] || which="base"
      if ! (cd "${dir}" && npm ci --no-audit --no-fund) >"${work}/npm-ci.log" 2>&1; then
        cat "${work}/npm-ci.log" >&2
        {
          printf '%s\n### canfar-batch preview\n' "${MARKER}"
          section "\`npm ci\` failed in the ${which} checkout, so there is no preview:" "${work}/npm-ci.log"
        } >"${comment}"
        exit 1
      fi
    done
  fi

  local base_render="${work}/base-render"
  mkdir -p -- "${base_render}"
  if [[ ! -f "${base_dir}/Pulumi.${stack}.yaml" ]]; then
    printf '{"resources": []}\n' >"${base_render}/plan.json"
    printf '> [!NOTE]\n> Stack %s is new: the base has no %s, so every resource is compared with nothing (a create).\n\n' "\`${stack}\`" "\`Pulumi.${stack}.yaml\`" >"${notes}"
  elif ! (cd "${base_dir}" && npm run --silent render -- --stack "${stack}" --out "${base_render}") >"${work}/base.log" 2>&1; then
    cat "${work}/base.log" >&2
    printf '{"resources": []}\n' >"${base_render}/plan.json"
    {
      printf '> [!NOTE]\n> The base does not render, so every resource of the head is compared with nothing (a create). The base said:\n\n'
      fenced "${work}/base.log"
      printf '\n'
    } >"${notes}"
  fi

  local head_status=0
  (cd "${head_dir}" && npm run --silent preview -- --stack "${stack}" --base "${base_render}" --format markdown) >"${work}/head.md" 2>"${work}/head.log" || head_status=$?
  cat "${work}/head.log" >&2
  case "${head_status}" in
    0 | 3) status="${head_status}" ;;
    2)
      status=2
      section "The head's stack configuration (\`Pulumi.${stack}.yaml\`) is refused, so there is no prediction:" "${work}/head.log" >>"${failures}" ;;
    *)
      status=1
      section "\`npm run preview\` of the head failed (exit ${head_status}):" "${work}/head.log" >>"${failures}" ;;
  esac

  if [[ -n "${engine_stack}" ]]; then
    local engine_status=0
    (cd "${head_dir}" && pulumi preview --stack "${engine_stack}" --diff --json --show-replacement-steps --show-sames) >"${work}/engine.json" 2>"${work}/engine.log" || engine_status=$?
    cat "${work}/engine.log" >&2
    if ((engine_status != 0)); then
      # With --json the engine puts its errors in the JSON's diagnostics, not on stderr.
      node "${head_dir}/tools/ci/engine-errors.mjs" "${work}/engine.json" >>"${work}/engine.log" 2>/dev/null || true
      section "\`pulumi preview\` of ${engine_stack} failed (exit ${engine_status}):" "${work}/engine.log" >>"${failures}"
      ((status == 1 || status == 2)) || status=1
    else
      local format_status=0
      {
        printf '\n#### pulumi preview of %s\n' "${engine_stack}"
        (cd "${head_dir}" && npm run --silent preview -- --engine-json "${work}/engine.json" --format markdown) 2>"${work}/format.log" | tail -n +3
      } >>"${work}/engine.md" || format_status=$?
      if ((format_status == 0 || format_status == 3)); then
        ((status != 0)) || status="${format_status}"
      else
        section "\`pulumi preview\` of ${engine_stack} ran, but its output could not be read (exit ${format_status}):" "${work}/format.log" >>"${failures}"
        ((status == 1 || status == 2)) || status=1
      fi
    fi
  fi

  {
    if [[ "${head_status}" == 0 || "${head_status}" == 3 ]]; then
      # The prediction's own heading first (marker, title), then the notes, then the rest.
      head -n 3 "${work}/head.md"
      cat "${notes}"
      tail -n +4 "${work}/head.md"
    else
      printf '%s\n### canfar-batch preview\n' "${MARKER}"
      [[ ! -s "${notes}" ]] || { printf '\n'; cat "${notes}"; }
    fi
    cat "${failures}"
    [[ ! -f "${work}/engine.md" ]] || cat "${work}/engine.md"
  } >"${comment}"
  return "${status}"
}

main "$@"
