import { effectText } from "./change-effects";
import { DEFAULTS, KNOWN_KEYS, MAX_RUN_HOURS, NAMESPACE, SECRET_KEYS } from "./schema";
import { MAX_EXPOSURES_PER_JOB } from "../domain/submit-file";
import { MAX_WORKERS, POOL_PASSWORD_MAX, POOL_PASSWORD_MIN } from "../domain/batch-system";

/**
 * What each key is for, its default and what changing it after the build does (Magic
 * Castle documents its variables this way). The README's table is generated from this
 * (`npm run config-reference`); a test keeps it complete and the README in step.
 */
const code = (value: string) => `\`${value}\``;

export interface KeyReference {
  what: string;
  /** Absent: the key is required. */
  default?: string;
  /**
   * What a change of it on a running stack does (change-effects.ts), on the dev stack, which
   * sets every key of CANFAR's batch service, or, for the keys of the stack's own pool, on
   * the self-hosted example stack; `npm run preview` must predict exactly these (tests/preview).
   */
  changes: readonly string[];
  /** When or why, said after the effects. */
  note?: string;
}

export const REFERENCE: Record<string, KeyReference> = {
  cloud: { what: "clouds.yaml entry (OS_CLOUD) used by the OpenStack provider and CLI", default: code(DEFAULTS.cloud), changes: ["recreated-everything", "new-key-pair", "ssh-rules-changed", "new-port", "new-address", "build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  image: { what: "base image of the build VM; the most recent image of that name", default: code(DEFAULTS.image), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "a republished image of the same name changes nothing: the id is kept until the name changes" },
  distro: { what: "`ubuntu`, `debian` or `rocky`: package names and default login", default: "from the image name", changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "when the package names differ" },
  defaultUser: { what: "the image's default login, holding the injected key", default: "from the distro", changes: ["starts-build-vm", "provisioning-from:create-user", "new-image", "no-requeue"] },
  flavor: { what: "build VM flavor; needs an ephemeral disk (`c*`, not `p*`)", default: code(DEFAULTS.flavor), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"], note: "never resized in place" },
  network: { what: "project network the VM's port is created on (`openstack network list`)", changes: ["new-port", "address-moved", "build-vm-replaced", "provisioning-from:create-user"], note: "the new VM keeps the image: its content is the same" },
  floatingIpPool: { what: "external network a floating IP is allocated from; conflicts with `floatingIp`", default: code(DEFAULTS.floatingIpPool), changes: ["new-address", "starts-build-vm", "provisioning-from:create-user"], note: "every SSH step runs again at the new address" },
  floatingIp: { what: "an address the project already holds, adopted (never released by destroy)", default: "unset: allocate", changes: ["address-moved", "starts-build-vm", "provisioning-from:create-user"], note: "every SSH step runs again at the new address" },
  sshPublicKey: { what: "OpenSSH public key imported as the key pair", changes: ["new-key-pair", "build-vm-replaced", "provisioning-from:create-user"], note: "the image is kept: its content is the same" },
  sshPrivateKey: { what: "the matching private key, for every SSH connection (unless `sshAgent`)", default: "required, unless `sshAgent`", changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again with the new key" },
  sshPrivateKeyPassphrase: { what: "the passphrase of a passphrase-protected `sshPrivateKey`", default: "unset: the key is not protected", changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again" },
  sshAgent: { what: "authenticate with your running ssh-agent (`SSH_AUTH_SOCK`) instead of a private key in the config", default: code("false"), changes: ["starts-build-vm", "provisioning-from:create-user", "new-certificate", "resubmit-same"], note: "every SSH step runs again, through the agent" },
  sshIngressCidrs: { what: "CIDRs allowed to reach SSH (list)", changes: ["ssh-rules-changed"], note: "only the rules of added or removed ranges" },
  allowSshFromAnywhere: { what: "opt-in for `0.0.0.0/0` or `::/0` in `sshIngressCidrs`", default: code("false"), changes: [] },
  cadcUser: { what: "CADC user name: created on the VM, used for CADC and VOSpace", changes: ["starts-build-vm", "provisioning-from:create-user", "new-image", "no-requeue"] },
  cadcPassword: { what: "CADC password: `~/.netrc` on the VM, for `cadc-get-cert`; on the batch host only while the jobs' certificate is made", changes: ["starts-build-vm", "provisioning-steps:cadc-credentials", "new-certificate", "resubmit-same"] },
  vospace: { what: "VOSpace folder the catalogues are uploaded to (`vos:...`)", changes: ["new-submission"] },
  observationIds: { what: "CFHT exposure IDs to process, one job each (list); conflicts with `observationIdsFile`", default: code(DEFAULTS.observationIds.join(", ")), changes: ["new-submission"], note: "one exposure added here: only it is queued" },
  observationIdsFile: { what: "a file of CFHT exposure IDs, one a line, `#` comments (a survey's list), relative to the project directory; conflicts with `observationIds`", default: "unset: `observationIds`", changes: ["new-submission"], note: "one exposure added here: only it is queued" },
  queuePolicy: { what: "which exposures a submission queues: `changed` (no catalogue by this pipeline identity), `missing` (no catalogue at all) or `all` (see *Campaigns*)", default: code("changed"), changes: ["requeue-all"], note: "to all here; to missing, nothing is re-queued" },
  upgradePackages: { what: "upgrade every package of the build VM (apt dist-upgrade / dnf update)", default: code("false"), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  extraPackages: { what: "packages installed beside source-extractor and funpack (list)", default: "none", changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "no-requeue"] },
  scratchDevice: { what: "ephemeral disk mounted on /mnt when nothing is", default: code(DEFAULTS.scratchDevice), changes: ["starts-build-vm", "provisioning-from:setup-scratch", "new-image", "no-requeue"] },
  snapshotPrefix: { what: "worker image name prefix: `<prefix>-<date>-<content hash>`", default: code(DEFAULTS.snapshotPrefix), changes: ["new-image", "no-requeue"] },
  snapshotTimeoutSeconds: { what: "how long to wait for the image to become `active`", default: code(String(DEFAULTS.snapshotTimeoutSeconds)), changes: [] },
  keepImageOnDestroy: { what: "keep the worker image when the stack is destroyed", default: code("true"), changes: ["image-deleted-on-destroy"], note: "set to false; images replaced earlier are never deleted by the stack" },
  allowDistroMismatch: { what: "opt-in for a `distro` other than the one the image name names (a mislabelled image)", default: code("false"), changes: [] },
  deleteBuildVmAfterSnapshot: { what: "delete the build VM once the image is active (see *The worker image*)", default: code("false"), changes: ["deletes-build-vm"], note: "set to true" },
  batchHost: { what: "CANFAR batch host to submit from; unset: build the image, submit nothing", default: "unset", changes: ["no-requeue"] },
  batchHostKey: { what: "the batch host's public host key (`ssh-keyscan` line or `type key`), pinned in every connection to it", default: "required with `batchHost`", changes: ["new-certificate", "resubmit-same"] },
  batchUser: { what: "login on the batch host", default: "`cadcUser`", changes: ["no-requeue"] },
  batchPort: { what: "SSH port of the batch host", default: code("22"), changes: ["new-certificate", "resubmit-same"] },
  submitMode: { what: "`csv1` (`canfar_submit JOB IMAGE FLAVOR`, OpenStack credentials passed) or `csv2` (`canfar_submit JOB IMAGE`)", default: code("csv1"), changes: ["no-requeue"] },
  workerFlavor: { what: "flavor of the workers the jobs run on; requests in the submit file fit it", default: "`flavor`", changes: ["no-requeue"], note: "with `batchSystem` self-hosted it also replaces every worker, each drained first" },
  expectedRunHours: { what: "how long the whole run may take, in hours: the jobs' CADC certificate, made on the batch host at submission, must outlive it, and a shorter one is refused before anything is queued", default: code(String(DEFAULTS.expectedRunHours)), changes: ["new-certificate", "resubmit-same"], note: `at most ${MAX_RUN_HOURS}: CADC issues certificates of at most 30 days` },
  exposuresPerJob: { what: "exposures each batch job catalogues, in order and overlapped (the next downloads while one is extracted, a catalogue uploads while the next extracts); each keeps its own outcome, a job with a failed one is held naming it, and its release redoes only that one. `1`: one exposure a job, as the tutorial. The job's disk request grows by one exposure fetched ahead and the catalogues, and must fit the worker flavor", default: code(String(DEFAULTS.exposuresPerJob)), changes: ["no-requeue"], note: `1 to ${MAX_EXPOSURES_PER_JOB}; exposures already catalogued by the pipeline are not queued again` },
  openstackAuthUrl: { what: "Keystone URL given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  openstackProjectName: { what: "OpenStack project name given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  openstackUserDomainName: { what: "Keystone user domain given to `canfar_submit` (csv1), as `OS_USER_DOMAIN_NAME` in your RC file", default: "unset: not passed", changes: ["resubmit-same"] },
  openstackProjectId: { what: "OpenStack project ID given to `canfar_submit` (csv1)", default: "required for csv1", changes: ["resubmit-same"] },
  batchSystem: { what: "`canfar` (CANFAR's batch service, from `batchHost`) or `self-hosted` (the stack's own HTCondor pool: a submit node and `workerCount` workers from the worker image; see *Your own HTCondor pool*); each refuses the other's keys", default: code("canfar"), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "pool-created", "no-requeue"], note: "to self-hosted (the image gains HTCondor, so a new build VM and image); back to canfar deletes the pool" },
  workerCount: { what: `workers of the self-hosted pool, \`<prefix>-worker-<i>\`: 0 (none, nothing billed for workers) to ${MAX_WORKERS}`, default: `${code(String(DEFAULTS.workerCount))} (self-hosted only)`, changes: ["workers-drained-removed"], note: "fewer workers (2 to 1 here); more workers only adds the new ones" },
  submitNodeFlavor: { what: "flavor of the self-hosted pool's submit node (central manager and schedd; runs no jobs, so a small `p*` flavor will do)", default: "`flavor` (self-hosted only)", changes: ["submit-node-replaced", "no-requeue"], note: "the queue of the old node goes with it" },
  poolPassword: { what: `the self-hosted pool's secret, ${POOL_PASSWORD_MIN} to ${POOL_PASSWORD_MAX} printable characters without spaces: \`openssl rand -base64 32 | pulumi config set --secret canfar:poolPassword\``, default: "required for self-hosted", changes: ["submit-node-replaced", "workers-replaced", "no-requeue"], note: "every node gets it in its user-data" },
};

/** The "changing it later" cell: the effects in words, then the note. */
export function changeText(r: KeyReference): string {
  const effects = r.changes.length > 0 ? r.changes.map(effectText).join("; ") : "nothing by itself";
  return r.note ? `${effects} (${r.note})` : effects;
}

/** The README's config reference table; `default` absent means the key is required. */
export function referenceTable(): string {
  const rows = KNOWN_KEYS.map((key) => {
    const r = REFERENCE[key];
    const secret = (SECRET_KEYS as readonly string[]).includes(key) ? " **Secret.**" : "";
    const dflt = r.default ?? "*required*";
    return `| \`${NAMESPACE}:${key}\` | ${r.what}.${secret} | ${dflt} | ${changeText(r)} |`;
  });
  return ["| key | what | default | changing it later |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

const START = "<!-- config-reference:start -->";
const END = "<!-- config-reference:end -->";

/** The README text with the table between its markers replaced by the current one. */
export function withReference(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: markers ${START} … ${END} not found`);
  return `${readme.slice(0, start + START.length)}\n${referenceTable()}\n${readme.slice(end)}`;
}
