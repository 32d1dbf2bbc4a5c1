import { z } from "zod";
import { isIPv4 } from "node:net";
import { parseFlavor } from "../domain/flavor";
import { observationIdProblems } from "../domain/observation-id";
import { isAnywhere, parseCidr } from "../domain/cidr";
import { DEFAULT_USER, DISTROS, inferDistro, type Distro } from "../domain/distro";
import type { FloatingIpChoice } from "../domain/floating-ip";
import { SUBMIT_MODES } from "../domain/submit-mode";
import { fitResources, jobDiskKb, MAX_EXPOSURES_PER_JOB } from "../domain/submit-file";
import { BATCH_SYSTEMS, MAX_WORKERS, POOL_PASSWORD_MAX, POOL_PASSWORD_MIN, batchSystemProblems } from "../domain/batch-system";
import { isSystemAccount, USER_NAME_ERE } from "../domain/user-name";
import { isVospacePath } from "../domain/vospace";
import { listItemProblems, valueProblem } from "./value-checks";
import { QUEUE_POLICIES } from "../domain/queue-policy";
import { REPO_ROOT } from "../lib/repo-root";
import { readObservationIdsFile } from "./observation-ids-file";
import { publicKeyProblem } from "../domain/ssh-key";

/** The config namespace: every key in Pulumi.<stack>.yaml is `canfar:<key>`. */
export const NAMESPACE = "canfar";

/** Defaults follow the CANFAR batch tutorial, so an empty stack reproduces it. */
export const DEFAULTS = {
  cloud: "arbutus-canfar",
  image: "canfar-ubuntu-20.04",
  flavor: "c2-7.5gb-30",
  floatingIpPool: "Public-Network",
  scratchDevice: "/dev/vdb",
  snapshotPrefix: "image-reduction",
  snapshotTimeoutSeconds: 1800,
  expectedRunHours: 48,
  observationIds: ["1056215p", "1056216p", "1056217p", "1056218p"],
  /** Two workers: a pool that shows jobs running side by side, for two instances of quota. */
  workerCount: 2,
  /**
   * Exposures per batch job, overlapped (do_catalogue.bash ID ID...): measured with
   * `npm run bench:batch` (README, Throughput).
   */
  exposuresPerJob: 4,
} as const;


/** Keys whose values must arrive as Pulumi secrets: they are never stored in plain text. */
export const SECRET_KEYS = ["cadcPassword", "sshPrivateKey", "sshPrivateKeyPassphrase", "poolPassword"] as const;

// The rule create-user.sh applies (domain/user-name.ts).
const CADC_USER = new RegExp(USER_NAME_ERE);
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;
const SSH_PRIVATE_KEY = /-----BEGIN (OPENSSH|RSA|EC|ENCRYPTED) PRIVATE KEY-----[\s\S]+-----END \1 PRIVATE KEY-----/;
// A host key line: known_hosts style (`host type key`) or just `type key`, as ssh-keyscan prints it.
const HOST_KEY_TYPES = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)$/;
const HOST_KEY_LINE = /^([^\s]+\s+)?(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa)\s+[A-Za-z0-9+/]+={0,3}(\s+.*)?$/;
// A DNS name or an IPv4 address, nothing a shell or ssh would read as an option.
const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Debian and RPM package names share this alphabet; anything else would be shell or YAML.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]*$/;
// OpenStack allows more, but Glance/Nova names end up in shell commands and image names.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A key line that matches its pattern must also hold a whole key (domain/ssh-key.ts): `at` is
 * the index of the type word (1 after a known_hosts host name). A line the pattern refused
 * has had its message.
 */
function keyLineIssue(line: string, pattern: RegExp, at: number, ctx: z.RefinementCtx): void {
  if (!pattern.test(line)) return;
  const words = line.split(/\s+/);
  const problem = publicKeyProblem(words[at] ?? "", words[at + 1] ?? "", words[at + 2]);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
}

/**
 * Pulumi hands every value over as a string; structured values (lists) arrive as JSON text.
 * Turning unparseable text into a marker keeps the zod message about the key, not about JSON.
 */
function jsonList(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return { notAList: text };
  }
}

const listOf = (item: z.ZodType<string>, what: string) =>
  z.preprocess(jsonList, z.array(item, { error: `expected a YAML list of ${what}` }));

/** cadc-get-cert issues at most 30 days; the run must end a day before the certificate does. */
export const MAX_RUN_HOURS = 29 * 24;

/** OpenStack's limit for names (Nova, Neutron, Glance). */
const OPENSTACK_NAME_MAX = 255;
/** `<prefix>-YYYY-MM-DD-<10 hex digits>` must fit Glance's 255 characters. */
export const SNAPSHOT_PREFIX_MAX = OPENSTACK_NAME_MAX - "-YYYY-MM-DD-".length - 10;

const bool = z.stringbool({ error: "expected true or false" });

const positiveInt = (min: number, max: number) =>
  z.coerce
    .number({ error: "expected a whole number" })
    .int({ error: "expected a whole number" })
    .min(min, { error: `expected at least ${min}` })
    .max(max, { error: `expected at most ${max}` });

const name = (what: string, max = OPENSTACK_NAME_MAX) =>
  z
    .string()
    .max(max, { error: `expected at most ${max} characters (${max === OPENSTACK_NAME_MAX ? "OpenStack's limit for names" : "the longest that fits the names made from it"})` })
    .regex(NAME, { error: `expected ${what}: letters, digits, '.', '_' or '-', starting with a letter or digit` });

const schema = z
  .object({
    cloud: name("the cloud's name in clouds.yaml").default(DEFAULTS.cloud),
    image: name("an image name such as canfar-ubuntu-20.04").default(DEFAULTS.image),
    distro: z.enum(DISTROS, { error: `expected one of ${DISTROS.join(", ")}` }).optional(),
    defaultUser: z.string().regex(CADC_USER, { error: "expected a Linux user name" }).optional(),
    flavor: z.string().max(64, { error: "expected a flavor name such as c2-7.5gb-30" }).default(DEFAULTS.flavor),
    network: name("the name of the project network the VM is attached to"),
    floatingIpPool: name("the name of the external network floating IPs come from").optional(),
    floatingIp: z.string().refine((v) => isIPv4(v), { error: "expected an IPv4 address already allocated to the project" }).optional(),
    sshPublicKey: z
      .string()
      .trim()
      .regex(SSH_PUBLIC_KEY, { error: "expected one OpenSSH public key line (ssh-ed25519 AAAA... comment)" })
      .superRefine((line, ctx) => keyLineIssue(line, SSH_PUBLIC_KEY, 0, ctx)),
    sshPrivateKey: z.string().regex(SSH_PRIVATE_KEY, { error: "expected a PEM/OpenSSH private key matching canfar:sshPublicKey" }).optional(),
    sshPrivateKeyPassphrase: z.string().min(1, { error: "expected the key's passphrase, not an empty value" }).optional(),
    sshAgent: bool.default(false),
    sshIngressCidrs: listOf(z.string().max(64, { error: "expected a CIDR such as 203.0.113.0/24" }), "CIDRs (e.g. [203.0.113.0/24])").refine((l) => l.length > 0, {
      error: "expected at least one CIDR allowed to reach SSH (your site's range, e.g. 203.0.113.0/24)",
    }),
    allowSshFromAnywhere: bool.default(false),
    cadcUser: z
      .string()
      .regex(CADC_USER, { error: "expected a CADC user name: lowercase letters, digits, '_' or '-', at most 32, not starting with a digit" })
      .refine((v) => !isSystemAccount(v), { error: "is a system account of the image (root, nobody, ...): choose your own CADC user name" }),
    cadcPassword: z
      .string()
      .min(1, { error: "expected the CADC password, not an empty value" })
      // ~/.netrc separates fields by white space and has no portable quoting.
      .regex(/^[^\s'"\\]+$/, { error: "contains white space, a quote or a backslash, which ~/.netrc cannot hold; change the CADC password" }),
    vospace: z.string().refine(isVospacePath, { error: "expected a VOSpace path such as vos:myuser/catalogues (letters, digits, '_', '.', '+', '-' between slashes, no '..')" }),
    observationIds: listOf(z.string(), "CFHT exposure IDs")
      .refine((l) => l.length > 0, { error: "expected at least one exposure ID (remove the key to process the tutorial's four)" })
      .default([...DEFAULTS.observationIds]),
    observationIdsFile: z
      .string()
      .min(1, { error: "expected a file of exposure IDs, e.g. surveys/w3.txt" })
      .max(4096, { error: "expected a file path of at most 4096 characters" })
      .optional(),
    queuePolicy: z.enum(QUEUE_POLICIES, { error: `expected one of ${QUEUE_POLICIES.join(", ")}` }).default("changed"),
    upgradePackages: bool.default(false),
    extraPackages: listOf(z.string().regex(PACKAGE_NAME, { error: "expected package names" }), "package names").default([]),
    scratchDevice: z.string().regex(/^\/dev\/[a-z0-9]+$/, { error: "expected a block device path such as /dev/vdb" }).default(DEFAULTS.scratchDevice),
    snapshotPrefix: name("an image name prefix", SNAPSHOT_PREFIX_MAX).default(DEFAULTS.snapshotPrefix),
    snapshotTimeoutSeconds: positiveInt(60, 86_400).default(DEFAULTS.snapshotTimeoutSeconds),
    keepImageOnDestroy: bool.default(true),
    deleteBuildVmAfterSnapshot: bool.default(false),
    allowDistroMismatch: bool.default(false),
    batchHost: z.string().regex(HOST, { error: "expected the batch host's DNS name or IPv4 address" }).optional(),
    batchUser: z.string().regex(CADC_USER, { error: "expected a Linux user name" }).optional(),
    batchHostKey: z
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
    batchPort: positiveInt(1, 65_535).default(22),
    submitMode: z.enum(SUBMIT_MODES, { error: `expected one of ${SUBMIT_MODES.join(", ")}` }).default("csv1"),
    workerFlavor: z.string().max(64, { error: "expected a flavor name such as c2-7.5gb-30" }).optional(),
    // The jobs' certificate must outlive the run; CADC issues at most 30 days (one kept spare).
    expectedRunHours: positiveInt(1, MAX_RUN_HOURS).default(DEFAULTS.expectedRunHours),
    exposuresPerJob: positiveInt(1, MAX_EXPOSURES_PER_JOB).default(DEFAULTS.exposuresPerJob),
    openstackAuthUrl: z
      .url({ protocol: /^https?$/, error: "expected the Keystone URL, e.g. https://arbutus-canfar.cloud.computecanada.ca:5000/v3" })
      .regex(/^[\x21-\x7e]+$/, { error: "expected the Keystone URL in plain ASCII (a look-alike letter is not the host you mean)" })
      .optional(),
    openstackProjectName: name("the OpenStack project name").optional(),
    openstackUserDomainName: name("the Keystone user domain (OS_USER_DOMAIN_NAME of your RC file)").optional(),
    openstackProjectId: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected the 32-hex-digit OpenStack project ID (`openstack project list`)" }).optional(),
    batchSystem: z.enum(BATCH_SYSTEMS, { error: `expected one of ${BATCH_SYSTEMS.join(", ")}` }).default("canfar"),
    workerCount: positiveInt(0, MAX_WORKERS).optional(),
    submitNodeFlavor: z.string().max(64, { error: "expected a flavor name such as p2-3gb" }).optional(),
    poolPassword: z
      .string()
      .min(POOL_PASSWORD_MIN, { error: `expected at least ${POOL_PASSWORD_MIN} characters; make one with \`openssl rand -base64 32 | pulumi config set --secret canfar:poolPassword\`` })
      // What the pool's user-data can hold: condor_store_cred reads no more.
      .max(POOL_PASSWORD_MAX, { error: `expected at most ${POOL_PASSWORD_MAX} characters (HTCondor reads no more of a pool password); \`openssl rand -base64 32\` makes one of 44` })
      // HTCondor reads the pool password from a file up to its first line break; white space
      // at either end would be a different password on different nodes' tools.
      .regex(/^[\x21-\x7e]+$/, { error: "expected printable ASCII without spaces (`openssl rand -base64 32` makes one)" })
      .optional(),
  })
  .strict();

type Parsed = z.infer<typeof schema>;

/** The validated stack configuration, every default applied. Secrets are still plain here. */
export interface StackSettings extends Omit<Parsed, "distro" | "defaultUser" | "floatingIpPool" | "floatingIp" | "batchUser" | "workerFlavor" | "workerCount" | "submitNodeFlavor"> {
  distro: Distro;
  defaultUser: string;
  /** Defaults to cadcUser: on CANFAR the batch host login is the CADC account. */
  batchUser: string;
  /** Defaults to flavor. */
  workerFlavor: string;
  floatingIp: FloatingIpChoice;
  /** How canfar_submit is called: csv1 carries the OpenStack project the checks above made complete. */
  submission: { mode: "csv1"; project: OpenStackProject } | { mode: "csv2" };
  /** The stack's own pool (self-hosted), or none (CANFAR's batch service runs the jobs). */
  pool: { system: "canfar" } | { system: "self-hosted"; workerCount: number; submitNodeFlavor: string };
}

/** What canfar_submit csv1 reads from the environment besides the login and password. */
export interface OpenStackProject {
  authUrl: string;
  projectName: string;
  projectId: string;
  userDomainName?: string;
}

export const KNOWN_KEYS: readonly string[] = Object.keys(schema.shape);


export type Problem = [key: string, message: string];

/** Keys whose value is a list, a boolean or a number (the rest are text). */
const LIST_KEYS = new Set(["sshIngressCidrs", "observationIds", "extraPackages"]);
const NON_TEXT_KEYS = new Set(["sshAgent", "allowSshFromAnywhere", "upgradePackages", "keepImageOnDestroy", "deleteBuildVmAfterSnapshot", "allowDistroMismatch", "snapshotTimeoutSeconds", "batchPort", "expectedRunHours", "workerCount", "exposuresPerJob"]);

/**
 * Rules that involve more than one key or knowledge zod's field types do not carry. Run on
 * every key that passed its own rule, so that one key's type error hides nothing else.
 */
function crossFieldProblems(p: Partial<Parsed>, secretKeys: ReadonlySet<string>, given: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  if (p.flavor !== undefined) {
    const flavor = parseFlavor(p.flavor);
    if (typeof flavor === "string") {
      problems.push(["flavor", flavor]);
    } else if (flavor.ephemeralGb === 0) {
      problems.push([
        "flavor",
        `'${p.flavor}' has no ephemeral disk, so /mnt/scratch cannot be set up; choose a c* flavor such as ${DEFAULTS.flavor}`,
      ]);
    }
  }
  if (p.floatingIp !== undefined && p.floatingIpPool !== undefined) {
    problems.push([
      "floatingIp",
      "set either canfar:floatingIp (adopt an address the project already has) or canfar:floatingIpPool (allocate a new one), not both",
    ]);
  }
  const seen = new Map<string, number>();
  for (const [i, text] of (p.sshIngressCidrs ?? []).entries()) {
    const cidr = parseCidr(text);
    if (typeof cidr === "string") problems.push([`sshIngressCidrs[${i}]`, cidr]);
    else if (isAnywhere(cidr) && p.allowSshFromAnywhere !== true) {
      problems.push([
        `sshIngressCidrs[${i}]`,
        `'${text}' opens SSH to the whole Internet; list your site's range instead, or set canfar:allowSshFromAnywhere to true`,
      ]);
    }
    const first = seen.get(text);
    if (first !== undefined) problems.push([`sshIngressCidrs[${i}]`, `'${text}' repeats index ${first}`]);
    else seen.set(text, i);
  }
  for (const problem of observationIdProblems(p.observationIds ?? [])) problems.push(["observationIds", problem]);
  if (p.image !== undefined) {
    const named = inferDistro(p.image);
    if (p.distro === undefined && named === undefined) {
      problems.push(["distro", `cannot tell the distribution of image '${p.image}'; set canfar:distro to one of ${DISTROS.join(", ")}`]);
    } else if (p.distro !== undefined && named !== undefined && named !== p.distro && p.allowDistroMismatch !== true) {
      problems.push([
        "distro",
        `is ${p.distro}, but canfar:image '${p.image}' names ${named}: the VM would get ${p.distro}'s package names and login; remove canfar:distro, or set canfar:allowDistroMismatch to true if the image is mislabelled`,
      ]);
    }
  }
  problems.push(...sshAuthProblems(p, given));
  problems.push(...batchProblems(p, given));
  problems.push(...poolProblems(p, given));
  for (const key of SECRET_KEYS) {
    if (p[key] !== undefined && !secretKeys.has(key)) {
      problems.push([key, `must be a Pulumi secret; set it with \`pulumi config set --secret ${NAMESPACE}:${key} ...\``]);
    }
  }
  return problems;
}

/** Exactly one way to authenticate: the key from the config, or the running ssh-agent. */
function sshAuthProblems(p: Partial<Parsed>, given: ReadonlySet<string>): Problem[] {
  if (p.sshAgent === true) {
    if (given.has("sshPrivateKey")) return [["sshPrivateKey", "is set while canfar:sshAgent is true; choose one: remove the key from the config to use the ssh-agent, or set canfar:sshAgent to false"]];
    if (given.has("sshPrivateKeyPassphrase")) return [["sshPrivateKeyPassphrase", "is only for canfar:sshPrivateKey; the ssh-agent holds its keys unlocked"]];
    return [];
  }
  if (!given.has("sshPrivateKey") && p.sshAgent === false) {
    return [["sshPrivateKey", "is required: the private key for SSH, set with `pulumi config set --secret canfar:sshPrivateKey < ~/.ssh/id_ed25519`, or set canfar:sshAgent to true to use your running ssh-agent instead"]];
  }
  if (p.sshPrivateKey?.includes("-----BEGIN ENCRYPTED") && !given.has("sshPrivateKeyPassphrase")) {
    return [["sshPrivateKeyPassphrase", "is required: canfar:sshPrivateKey is passphrase-protected; set it with `pulumi config set --secret canfar:sshPrivateKeyPassphrase`"]];
  }
  return [];
}

/** A job of K exposures holds one fetched ahead and K catalogues: the workers' disk must take it. */
function exposuresPerJobProblems(p: Partial<Parsed>): Problem[] {
  const k = p.exposuresPerJob;
  const name = p.workerFlavor ?? p.flavor;
  if (k === undefined || k === 1 || name === undefined) return [];
  const flavor = parseFlavor(name);
  if (typeof flavor === "string") return [];
  const max = fitResources(flavor).diskKb;
  if (max === undefined || jobDiskKb(k) <= max) return [];
  return [["exposuresPerJob", `${k} exposures per job need ${Math.ceil(jobDiskKb(k) / 1024 / 1024)} GB of scratch (one exposure, the next fetched ahead, ${k} catalogues), more than worker flavor '${name}' offers (${Math.floor(max / 1024 / 1024)} GB): use fewer, or a flavor with a larger ephemeral disk`]];
}

/** canfar_submit csv1 needs the OpenStack project in its environment; workers need scratch disk. */
function batchProblems(p: Partial<Parsed>, given: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  // Unset, it is canfar:flavor, whose own rule already speaks.
  if (p.workerFlavor !== undefined) {
    const flavor = parseFlavor(p.workerFlavor);
    if (typeof flavor === "string") problems.push(["workerFlavor", flavor]);
    else if (flavor.ephemeralGb === 0) {
      problems.push(["workerFlavor", `'${p.workerFlavor}' has no ephemeral disk for the jobs' scratch directories; choose a c* flavor such as ${DEFAULTS.flavor}`]);
    }
  }
  problems.push(...exposuresPerJobProblems(p));
  // In self-hosted mode the batch host's keys are refused whole (poolProblems), not completed.
  const canfar = p.batchSystem !== "self-hosted";
  if (canfar && p.batchHost !== undefined && !given.has("batchHostKey")) {
    problems.push([
      "batchHostKey",
      "is required when canfar:batchHost is set: the batch host's public host key, so the program never sends your password to another host; see docs/host-keys.md (`ssh-keyscan -t ed25519 <batch host>`, checked against a trusted login's known_hosts)",
    ]);
  }
  if (canfar && p.batchHost !== undefined && p.submitMode === "csv1") {
    for (const key of ["openstackAuthUrl", "openstackProjectName", "openstackProjectId"] as const) {
      // A key given but refused by its own rule has said so already.
      if (!given.has(key)) problems.push([key, "is required when canfar:batchHost is set and canfar:submitMode is csv1 (canfar_submit reads it from the environment)"]);
    }
  }
  return problems;
}

/** The batch system's own keys: the other system's are refused, the pool's secret required. */
function poolProblems(p: Partial<Parsed>, given: ReadonlySet<string>): Problem[] {
  // A batchSystem refused by its own rule has said so; the other keys wait for a valid one.
  if (p.batchSystem === undefined) return [];
  const problems: Problem[] = batchSystemProblems(p.batchSystem, given);
  if (p.batchSystem === "self-hosted" && !given.has("poolPassword")) {
    problems.push(["poolPassword", `is required with canfar:batchSystem self-hosted: the secret the pool's members authenticate with; set it once with \`openssl rand -base64 32 | pulumi config set --secret ${NAMESPACE}:poolPassword\``]);
  }
  if (p.submitNodeFlavor !== undefined) {
    const flavor = parseFlavor(p.submitNodeFlavor);
    if (typeof flavor === "string") problems.push(["submitNodeFlavor", flavor]);
  }
  return problems;
}

/**
 * A survey's IDs from a file instead of the list: read here, so the file's problems come
 * with the other keys' and nothing is declared from a bad list. Replaces parsed.observationIds.
 */
function observationIdsFileProblems(p: Partial<Parsed>, given: ReadonlySet<string>, projectDir: string): Problem[] {
  if (p.observationIdsFile === undefined) return [];
  if (given.has("observationIds")) {
    return [["observationIdsFile", "set either canfar:observationIds (a list in the stack file) or canfar:observationIdsFile (a file of IDs), not both"]];
  }
  const { ids, problems } = readObservationIdsFile(p.observationIdsFile, projectDir);
  if (problems.length > 0) return problems.map((m): Problem => ["observationIdsFile", m]);
  p.observationIds = ids;
  return [];
}

function closest(key: string): string | undefined {
  const lower = key.toLowerCase();
  return KNOWN_KEYS.find((k) => k.toLowerCase() === lower || k.toLowerCase().startsWith(lower.slice(0, 5)));
}

/**
 * Validates the raw `canfar:*` values as Pulumi hands them over (strings; lists as JSON text)
 * and returns settings with every default applied, or the full list of problems.
 *
 * @param raw keys without the namespace (`flavor`, not `canfar:flavor`)
 * @param secretKeys the keys (without namespace) whose values were stored as secrets
 */
export function validateSettings(
  raw: Readonly<Record<string, string>>,
  secretKeys: ReadonlySet<string>,
  /** Where a relative canfar:observationIdsFile is: the project directory. */
  projectDir: string = REPO_ROOT,
): { ok: true; settings: StackSettings } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  for (const k of Object.keys(raw).filter((k) => !KNOWN_KEYS.includes(k))) {
    const hint = closest(k);
    problems.push([k, `unknown key${hint ? `; did you mean ${NAMESPACE}:${hint}?` : `; known keys: ${KNOWN_KEYS.join(", ")}`}`]);
  }
  // Every key on its own first, so that all problems of all keys are reported together.
  const parsed: Record<string, unknown> = {};
  const shape = schema.shape as Record<string, z.ZodType>;
  for (const key of KNOWN_KEYS) {
    const field = shape[key] as z.ZodType;
    const value = raw[key];
    const early = value === undefined ? undefined : earlyProblems(key, value, { secret: secretKeys.has(key), optional: field.safeParse(undefined).success });
    if (early) problems.push(...early.problems);
    if (early?.blocking) continue;
    // A list whose items were not all text goes on with them as text, so its other items
    // (and the rules about it) are still checked.
    const result = field.safeParse(early?.asText ?? value);
    if (result.success) {
      if (result.data !== undefined) parsed[key] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      const rest = issue.path.map(String);
      const at = rest.length ? `${key}[${rest.join("][")}]` : key;
      // Messages never echo what was received: a misplaced secret must not reach the terminal.
      problems.push([at, value === undefined ? "is required" : issue.message]);
    }
  }
  problems.push(...crossFieldProblems(parsed as Partial<Parsed>, secretKeys, new Set(Object.keys(raw))));
  problems.push(...observationIdsFileProblems(parsed as Partial<Parsed>, new Set(Object.keys(raw)), projectDir));
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  const p = parsed as Parsed;
  const distro = p.distro ?? (inferDistro(p.image) as Distro);
  const { floatingIp, floatingIpPool, batchUser, workerFlavor, workerCount, submitNodeFlavor, ...rest } = p;
  return {
    ok: true,
    settings: {
      ...rest,
      distro,
      defaultUser: p.defaultUser ?? DEFAULT_USER[distro],
      batchUser: batchUser ?? p.cadcUser,
      workerFlavor: workerFlavor ?? p.flavor,
      floatingIp:
        floatingIp !== undefined
          ? { kind: "adopt", address: floatingIp }
          : { kind: "allocate", pool: floatingIpPool ?? DEFAULTS.floatingIpPool },
      submission: submissionOf(p),
      pool:
        p.batchSystem === "self-hosted"
          ? { system: "self-hosted", workerCount: workerCount ?? DEFAULTS.workerCount, submitNodeFlavor: submitNodeFlavor ?? p.flavor }
          : { system: "canfar" },
    },
  };
}

/**
 * csv1 with a batch host has its three OpenStack keys (crossFieldProblems required them);
 * without a batch host nothing is submitted, and csv1 carries whatever was given.
 */
function submissionOf(p: Parsed): StackSettings["submission"] {
  if (p.submitMode === "csv2") return { mode: "csv2" };
  return {
    mode: "csv1",
    project: {
      authUrl: p.openstackAuthUrl ?? "",
      projectName: p.openstackProjectName ?? "",
      projectId: p.openstackProjectId ?? "",
      ...(p.openstackUserDomainName === undefined ? {} : { userDomainName: p.openstackUserDomainName }),
    },
  };
}

/** What YAML or a paste did to a value, before its own rule reads it (see value-checks.ts). */
function earlyProblems(key: string, value: string, opts: { secret: boolean; optional: boolean }): { problems: Problem[]; blocking: boolean; asText?: string } {
  const whole = valueProblem(`${NAMESPACE}:${key}`, value, {
    secret: opts.secret,
    textual: !NON_TEXT_KEYS.has(key) && !LIST_KEYS.has(key),
    multiline: key === "sshPrivateKey",
    optional: opts.optional,
  });
  if (whole) return { problems: [[key, whole]], blocking: true };
  if (!LIST_KEYS.has(key)) return { problems: [], blocking: false };
  const items = jsonList(value);
  if (!Array.isArray(items)) return { problems: [], blocking: false };
  const problems = listItemProblems(items, `${NAMESPACE}:${key}`).map(([i, message]): Problem => [`${key}[${i}]`, message]);
  const asText = items.some((item) => typeof item !== "string") ? JSON.stringify(items.map((item) => (typeof item === "string" ? item : JSON.stringify(item)))) : undefined;
  return { problems, blocking: false, ...(asText === undefined ? {} : { asText }) };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter(([k, m]) => {
    const id = `${k}\0${m}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
