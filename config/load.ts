import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config-error";
import type { SshAuth } from "../lib/ssh-auth";
import { cloudNameProblems, namespaceProblems } from "./namespaces";
import { NAMESPACE, SECRET_KEYS, StackSettings, validateSettings } from "./schema";
import { placeholderWarning } from "./placeholders";

type SecretKey = (typeof SECRET_KEYS)[number];

/** Settings as components consume them: secret values only ever travel as secret Outputs. */
export type Config = Omit<StackSettings, SecretKey | "sshAgent" | "pool"> & {
  cadcPassword: pulumi.Output<string>;
  /** The stack's own pool, with its secret (set whenever the system is self-hosted). */
  pool: { system: "canfar" } | { system: "self-hosted"; workerCount: number; submitNodeFlavor: string; poolPassword: pulumi.Output<string> };
  /** The key from the config or the running ssh-agent. */
  sshAuth: SshAuth;
  /** `<pulumi project>-<stack>`: carried by every cloud name, since key pairs are per user. */
  prefix: string;
};

// The runtime keeps the secret key list in an internal module; this is the one place that
// knows it (a test pins the behaviour, so an SDK upgrade that moves it fails loudly).
interface RuntimeConfigModule {
  isConfigSecret(key: string): boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as RuntimeConfigModule;

/** The `canfar:*` values as strings, which of them were stored as secrets, and every other key. */
export function readRawConfig(): { raw: Record<string, string>; secretKeys: Set<string>; otherKeys: string[] } {
  const raw: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const otherKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2);
    if (ns !== NAMESPACE || key === undefined) {
      otherKeys.push(fullKey);
      continue;
    }
    raw[key] = value;
    if (runtimeConfig.isConfigSecret(fullKey)) secretKeys.add(key);
  }
  return { raw, secretKeys, otherKeys };
}

/** Pulumi names allow more than OpenStack's; keep what every cloud name accepts. */
export function resourcePrefix(project: string, stack: string): string {
  return `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/**
 * Validates the stack's configuration before any resource is declared: a ConfigError lists
 * every problem, each named by its full key.
 */
export function loadConfig(): Config {
  const { raw, secretKeys, otherKeys } = readRawConfig();
  const result = validateSettings(raw, secretKeys);
  const prefix = resourcePrefix(pulumi.getProject(), pulumi.getStack());
  const problems = [
    ...namespaceProblems(otherKeys, pulumi.getProject()),
    ...(result.ok ? [] : result.problems.map(([key, message]) => ({ key: `${NAMESPACE}:${key}`, message }))),
    ...cloudNameProblems(prefix, pulumi.getStack()),
  ];
  if (!result.ok || problems.length > 0) {
    throw new ConfigError(problems, `configuration of stack '${pulumi.getStack()}'`);
  }
  // A warning, not an error: the example stacks themselves must render.
  const warning = placeholderWarning(raw);
  if (warning !== undefined) pulumi.log.warn(warning);
  const { cadcPassword, sshPrivateKey, sshPrivateKeyPassphrase, sshAgent, poolPassword, pool, ...plain } = result.settings;
  const sshAuth: SshAuth =
    sshAgent || sshPrivateKey === undefined
      ? { kind: "agent" }
      : { kind: "key", privateKey: pulumi.secret(sshPrivateKey), ...(sshPrivateKeyPassphrase ? { passphrase: pulumi.secret(sshPrivateKeyPassphrase) } : {}) };
  return {
    ...plain,
    cadcPassword: pulumi.secret(cadcPassword),
    // The schema requires the password whenever the system is self-hosted.
    pool: pool.system === "self-hosted" ? { ...pool, poolPassword: pulumi.secret(poolPassword ?? "") } : pool,
    sshAuth,
    prefix,
  };
}
