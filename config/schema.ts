import { z } from "zod";
import { parseFlavor } from "../domain/flavor";
import { observationIdProblems } from "../domain/observation-id";
import { isAnywhere, parseCidr } from "../domain/cidr";
import { DEFAULT_USER, DISTROS, inferDistro, type Distro } from "../domain/distro";
import type { FloatingIpChoice } from "../domain/floating-ip";
import { fitResources, jobDiskKb } from "../domain/submit-file";
import { listItemProblems, valueProblem } from "./value-checks";
import { REPO_ROOT } from "../lib/repo-root";
import { readObservationIdsFile } from "./observation-ids-file";
import { DEFAULTS } from "./defaults";
import { KNOWN_KEYS, SECRET_KEYS, SHAPE, keySpec } from "./keys";
import { jsonList } from "./keys/parsers";
import { batchSystemProblems } from "./batch-system-keys";

export { DEFAULTS } from "./defaults";
export { KNOWN_KEYS, SECRET_KEYS } from "./keys";
export { MAX_RUN_HOURS } from "./keys/batch-host";
export { SNAPSHOT_PREFIX_MAX } from "./keys/worker-image";

/** The config namespace: every key in Pulumi.<stack>.yaml is `canfar:<key>`. */
export const NAMESPACE = "canfar";

/** Each key's own rule (config/keys/), in one object that refuses keys it does not know. */
const schema = z.object(SHAPE).strict();

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

export type Problem = [key: string, message: string];

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
  const kind = keySpec(key)?.kind;
  const whole = valueProblem(`${NAMESPACE}:${key}`, value, {
    secret: opts.secret,
    textual: kind === "text" || kind === "lines",
    multiline: kind === "lines",
    optional: opts.optional,
  });
  if (whole) return { problems: [[key, whole]], blocking: true };
  if (kind !== "list") return { problems: [], blocking: false };
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
