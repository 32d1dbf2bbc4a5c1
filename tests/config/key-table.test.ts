import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { KEY_GROUPS, KEYS, KNOWN_KEYS, SECRET_KEYS, SHAPE, keySpec, type SecretKey } from "../../config/keys";
import type { KeyGroup, KeySpec } from "../../config/keys/key-spec";
import { REFERENCE } from "../../config/reference";
import { PLACEHOLDERS } from "../../config/placeholders";
import { validateSettings } from "../../config/schema";
import { loadConfig } from "../../config/load";
import { offlineMocks } from "../../offline/mocks";
import { isSecretOutput, valueOf } from "../../offline/output-introspection";
import { readStackConfig } from "../../offline/stack-file";
import { VALID_RAW, VALID_SECRETS } from "../fixtures/stack-config";

// A key is said in one place, its group's file under config/keys/: everything else that
// names keys is read from there, so a key cannot be half-added.
const ROOT = join(__dirname, "..", "..");
const KEYS_DIR = join(ROOT, "config", "keys");

const isKeyGroup = (value: unknown): value is KeyGroup =>
  typeof value === "object" &&
  value !== null &&
  Object.keys(value).length > 0 &&
  Object.values(value).every((v) => typeof v === "object" && v !== null && "parser" in v && "reference" in v);

/** Every group any file under config/keys/ exports, with the file's name. */
async function declaredGroups(): Promise<Array<{ file: string; group: KeyGroup }>> {
  const found: Array<{ file: string; group: KeyGroup }> = [];
  for (const file of readdirSync(KEYS_DIR).filter((f) => f.endsWith(".ts"))) {
    const mod = (await import(join(KEYS_DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isKeyGroup(value)) found.push({ file, group: value });
  }
  return found;
}

/** An example stack's `canfar:*` values, namespace dropped. */
function exampleRaw(stack: string): Record<string, string> {
  const { config } = readStackConfig(join(ROOT, `Pulumi.${stack}.yaml`));
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^canfar:/, ""), v]));
}

/** A value each secret key accepts, distinct enough to find wherever it went. */
const SECRET_SAMPLES: Record<SecretKey, string> = {
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-table-sample-private-key\n-----END OPENSSH PRIVATE KEY-----\n",
  sshPrivateKeyPassphrase: "key-table-sample-passphrase",
  cadcPassword: "key-table-sample-cadc-password",
  poolPassword: "key-table-sample-pool-password-0123456789",
};

describe("the key table (config/keys/)", () => {
  it("declares each key in exactly one group of one file, and joins every group", async () => {
    const groups = await declaredGroups();
    const where = new Map<string, string[]>();
    for (const { file, group } of groups) for (const key of Object.keys(group)) where.set(key, [...(where.get(key) ?? []), file]);
    expect([...where].filter(([, files]) => files.length !== 1)).toEqual([]);
    expect(groups.filter(({ group }) => !KEY_GROUPS.includes(group)).map(({ file }) => file)).toEqual([]);
    expect([...where.keys()].sort()).toEqual([...KNOWN_KEYS].sort());
  });

  it("is the zod shape, the reference and the README's table, key for key in one order", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `canfar:(\w+)` \|/gm)].map((m) => m[1]);
    expect(KNOWN_KEYS.length).toBeGreaterThan(40);
    expect(Object.keys(KEYS)).toEqual(KNOWN_KEYS);
    expect(Object.keys(SHAPE)).toEqual(KNOWN_KEYS);
    expect(Object.keys(REFERENCE)).toEqual(KNOWN_KEYS);
    expect(rows).toEqual(KNOWN_KEYS);
    expect(PLACEHOLDERS.map((p) => p.key).filter((k) => !KNOWN_KEYS.includes(k))).toEqual([]);
  });

  it("documents a key as required (no default) exactly when its parser requires it", () => {
    const mismatched = KNOWN_KEYS.filter((key) => {
      const spec = keySpec(key) as KeySpec;
      return (spec.reference.default === undefined) !== !spec.parser.safeParse(undefined).success;
    });
    expect(mismatched).toEqual([]);
  });

  it("gives each key the kind its parser makes (text, list, boolean, number)", () => {
    const samples = { ...exampleRaw("dev"), ...exampleRaw("self-hosted") };
    const expected = { text: "string", lines: "string", list: "array", boolean: "boolean", number: "number" } as const;
    const checked: string[] = [];
    const wrong = KNOWN_KEYS.flatMap((key) => {
      const spec = keySpec(key) as KeySpec;
      const result = spec.parser.safeParse(samples[key]);
      if (!result.success || result.data === undefined) return [];
      checked.push(key);
      const made = Array.isArray(result.data) ? "array" : typeof result.data;
      return made === expected[spec.kind] ? [] : [`${key}: ${spec.kind}, but its parser makes ${made}`];
    });
    expect(wrong).toEqual([]);
    // Every key that is not text has a default or an example value, so none goes unchecked.
    expect(KNOWN_KEYS.filter((k) => !checked.includes(k) && !["text", "lines"].includes(keySpec(k)?.kind ?? ""))).toEqual([]);
  });

  it("refuses each secret key given in plain text, by its key", () => {
    for (const key of SECRET_KEYS) {
      const raw = { ...VALID_RAW, [key]: SECRET_SAMPLES[key] };
      const result = validateSettings(raw, new Set([...VALID_SECRETS].filter((k) => k !== key)));
      const problems = result.ok ? [] : result.problems;
      expect(problems, key).toContainEqual([key, `must be a Pulumi secret; set it with \`pulumi config set --secret canfar:${key} ...\``]);
    }
  });

  it("hands every secret key's value to the program only as a secret Output", async () => {
    // Self-hosted, so that the pool's secret is read too; CANFAR's batch host keys are refused there.
    const { batchHostKey: _refused, ...rest } = VALID_RAW;
    const raw: Record<string, string> = { ...rest, batchSystem: "self-hosted", ...SECRET_SAMPLES };
    await pulumi.runtime.setMocks(offlineMocks, "canfar-batch", "dev", false);
    pulumi.runtime.setAllConfig(
      Object.fromEntries(Object.entries(raw).map(([k, v]) => [`canfar:${k}`, v])),
      SECRET_KEYS.map((k) => `canfar:${k}`),
    );
    const config = loadConfig();
    const plain: string[] = [];
    const secret: unknown[] = [];
    const walk = async (value: unknown, at: string): Promise<void> => {
      if (pulumi.Output.isInstance(value)) {
        if (await isSecretOutput(value)) secret.push(await valueOf(value));
        else await walk(await valueOf(value), at);
      } else if (typeof value === "string") {
        if (Object.values(SECRET_SAMPLES).some((s) => value.includes(s))) plain.push(at);
      } else if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value)) await walk(v, `${at}.${k}`);
      }
    };
    await walk(config, "config");
    expect(plain).toEqual([]);
    expect(Object.values(SECRET_SAMPLES).filter((s) => !secret.includes(s))).toEqual([]);
  });
});
