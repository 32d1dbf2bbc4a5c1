import { z } from "zod";
import { SUBMIT_MODES } from "../../domain/submit-mode";
import { MAX_EXPOSURES_PER_JOB } from "../../domain/submit-file";
import { DEFAULTS } from "../defaults";
import { code, type KeyGroup } from "./key-spec";
import { CADC_USER, flavorName, keyLineIssue, name, positiveInt } from "./parsers";

// A host key line: known_hosts style (`host type key`) or just `type key`, as ssh-keyscan prints it.
const HOST_KEY_TYPES = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)$/;
const HOST_KEY_LINE = /^([^\s]+\s+)?(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)\s+[A-Za-z0-9+/]+={0,3}(\s+.*)?$/;
// A DNS name or an IPv4 address, nothing a shell or ssh would read as an option.
const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** cadc-get-cert issues at most 30 days; the run must end a day before the certificate does. */
export const MAX_RUN_HOURS = 29 * 24;

/** The jobs: CANFAR's batch host and canfar_submit, the workers they run on, and csv1's project. */
export const BATCH_HOST_KEYS = {
  batchHost: {
    parser: z.string().regex(HOST, { error: "expected the batch host's DNS name or IPv4 address" }).optional(),
    kind: "text",
    batchSystem: "canfar",
    reference: { what: "CANFAR batch host to submit from; unset: build the image, submit nothing", default: "unset", changes: ["no-requeue"] },
  },
  batchUser: {
    parser: z.string().regex(CADC_USER, { error: "expected a Linux user name" }).optional(),
    kind: "text",
    batchSystem: "canfar",
    reference: { what: "login on the batch host", default: "`cadcUser`", changes: ["no-requeue"] },
  },
  batchHostKey: {
    parser: z
      .string()
      .trim()
      .regex(HOST_KEY_LINE, { error: "expected the batch host's public host key as `ssh-keyscan` prints it (`batch.canfar.net ssh-ed25519 AAAA...`) or as `ssh-ed25519 AAAA...`" })
      .superRefine((line, ctx) => keyLineIssue(line, HOST_KEY_LINE, HOST_KEY_TYPES.test(line.split(/\s+/)[0] ?? "") ? 0 : 1, ctx))
      // `type key`, the form a connection's hostKey takes: without the host name and comment.
      .transform((line) => {
        const words = line.split(/\s+/);
        const at = HOST_KEY_TYPES.test(words[0] ?? "") ? 0 : 1;
        return words.slice(at, at + 2).join(" ");
      })
      .optional(),
    kind: "text",
    batchSystem: "canfar",
    placeholder: { value: "AAAAC3NzaC1lZDI1NTE5AAAAIE7f2d9b1QmW6Jc0S1dY3b7g2Z0y8fG4uKpQm9vR1sTb", instead: "the batch host's own key (docs/host-keys.md)" },
    reference: { what: "the batch host's public host key (`ssh-keyscan` line or `type key`), pinned in every connection to it", default: "required with `batchHost`", changes: ["new-certificate", "resubmit-same"] },
  },
  batchPort: {
    parser: positiveInt(1, 65_535).default(22),
    kind: "number",
    batchSystem: "canfar",
    reference: { what: "SSH port of the batch host", default: code("22"), changes: ["new-certificate", "resubmit-same"] },
  },
  submitMode: {
    parser: z.enum(SUBMIT_MODES, { error: `expected one of ${SUBMIT_MODES.join(", ")}` }).default("csv1"),
    kind: "text",
    batchSystem: "canfar",
    reference: { what: "`csv1` (`canfar_submit JOB IMAGE FLAVOR`, OpenStack credentials passed) or `csv2` (`canfar_submit JOB IMAGE`)", default: code("csv1"), changes: ["no-requeue"] },
  },
  workerFlavor: {
    parser: flavorName("c2-7.5gb-30").optional(),
    kind: "text",
    reference: { what: "flavor of the workers the jobs run on; requests in the submit file fit it", default: "`flavor`", changes: ["no-requeue"], note: "with `batchSystem` self-hosted it also replaces every worker, each drained first" },
  },
  expectedRunHours: {
    // The jobs' certificate must outlive the run; CADC issues at most 30 days (one kept spare).
    parser: positiveInt(1, MAX_RUN_HOURS).default(DEFAULTS.expectedRunHours),
    kind: "number",
    reference: { what: "how long the whole run may take, in hours: the jobs' CADC certificate, made on the batch host at submission, must outlive it, and a shorter one is refused before anything is queued", default: code(String(DEFAULTS.expectedRunHours)), changes: ["new-certificate", "resubmit-same"], note: `at most ${MAX_RUN_HOURS}: CADC issues certificates of at most 30 days` },
  },
  exposuresPerJob: {
    parser: positiveInt(1, MAX_EXPOSURES_PER_JOB).default(DEFAULTS.exposuresPerJob),
    kind: "number",
    reference: { what: "exposures each batch job catalogues, in order and overlapped (the next downloads while one is extracted, a catalogue uploads while the next extracts); each keeps its own outcome, a job with a failed one is held naming it, and its release redoes only that one. `1`: one exposure a job, as the tutorial. The job's disk request grows by one exposure fetched ahead and the catalogues, and must fit the worker flavor", default: code(String(DEFAULTS.exposuresPerJob)), changes: ["no-requeue"], note: `1 to ${MAX_EXPOSURES_PER_JOB}; exposures already catalogued by the pipeline are not queued again` },
  },
  openstackAuthUrl: {
    parser: z
      .url({ protocol: /^https?$/, error: "expected the Keystone URL, e.g. https://arbutus-canfar.cloud.computecanada.ca:5000/v3" })
      .regex(/^[\x21-\x7e]+$/, { error: "expected the Keystone URL in plain ASCII (a look-alike letter is not the host you mean)" })
      .optional(),
    kind: "text",
    batchSystem: "canfar",
    reference: { what: "Keystone URL given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  },
  openstackProjectName: {
    parser: name("the OpenStack project name").optional(),
    kind: "text",
    batchSystem: "canfar",
    placeholder: { value: "my-project", instead: "OS_PROJECT_NAME from your project's OpenStack RC file" },
    reference: { what: "OpenStack project name given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  },
  openstackUserDomainName: {
    parser: name("the Keystone user domain (OS_USER_DOMAIN_NAME of your RC file)").optional(),
    kind: "text",
    batchSystem: "canfar",
    reference: { what: "Keystone user domain given to `canfar_submit` (csv1), as `OS_USER_DOMAIN_NAME` in your RC file", default: "unset: not passed", changes: ["resubmit-same"] },
  },
  openstackProjectId: {
    parser: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected the 32-hex-digit OpenStack project ID (`openstack project list`)" }).optional(),
    kind: "text",
    batchSystem: "canfar",
    placeholder: { value: "0123456789abcdef0123456789abcdef", instead: "OS_PROJECT_ID from your project's OpenStack RC file" },
    reference: { what: "OpenStack project ID given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  },
} satisfies KeyGroup;
