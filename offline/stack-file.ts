import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { parseYamlFile } from "./stack-file-error";

/**
 * Stand-ins for `secure:` values, which only the Pulumi CLI can decrypt. Each has the shape
 * the schema expects, so an offline render validates everything else; none is a usable
 * credential, and every one is marked secret, so it renders as `[secret]`.
 */
const SECRET_PLACEHOLDERS: Record<string, (tag: string) => string> = {
  "canfar:sshPrivateKey": (tag) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${tag}\n-----END OPENSSH PRIVATE KEY-----`,
  // Rendered as `pool-password-[secret]`: still a plain YAML string wherever the user-data
  // holds it, where a bare `[secret]` would read as a list.
  "canfar:poolPassword": (tag) => `pool-password-${tag}`,
};
const DEFAULT_PLACEHOLDER = (tag: string) => tag;

/**
 * The placeholder carries a digest of the ciphertext (not of any secret): a render shows a
 * changed secret as a changed `[secret <digest>]`, which is how `npm run preview` sees that
 * `pulumi config set --secret` gave a key a new value.
 */
function placeholderTag(key: string, ciphertext: string): string {
  return `offline-render-placeholder-${createHash("sha256").update(key).update("\0").update(ciphertext).digest("hex").slice(0, 12)}`;
}

export interface StackConfig {
  /** `namespace:key` → value as the Pulumi engine hands it to a program (strings, JSON for lists). */
  config: Record<string, string>;
  secretKeys: string[];
}

function isSecure(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && "secure" in value;
}

/**
 * Reads a `Pulumi.<stack>.yaml` the way the engine presents it to the program; a file that
 * is not YAML (a tab, a missing colon, a key twice) is a StackFileError by line and column.
 */
export function readStackConfig(path: string): StackConfig {
  return configFromDocument(parseYamlFile(readFileSync(path, "utf8"), path), path);
}

/** A parsed stack file's `config` section as the engine hands it to a program. */
export function configFromDocument(doc: unknown, path: string): StackConfig {
  const section = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    throw new Error(`${path}: 'config' must be a map of namespace:key to value`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(section)) {
    if (isSecure(value)) {
      config[key] = (SECRET_PLACEHOLDERS[key] ?? DEFAULT_PLACEHOLDER)(placeholderTag(key, String(value.secure)));
      secretKeys.push(key);
    } else if (typeof value === "string") {
      config[key] = value;
    } else {
      // The engine passes numbers and booleans as their text and lists/maps as JSON.
      config[key] = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
  }
  return { config, secretKeys };
}

/** The project name from Pulumi.yaml (resource names and URNs carry it). */
export function readProjectName(path: string): string {
  const doc = parse(readFileSync(path, "utf8")) as { name?: unknown } | null;
  if (typeof doc?.name !== "string") throw new Error(`${path}: no project 'name'`);
  return doc.name;
}
