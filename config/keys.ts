import type { BatchSystem } from "../domain/batch-system";
import type { KeyGroup, KeySpec } from "./keys/key-spec";
import { BUILD_VM_KEYS } from "./keys/build-vm";
import { SSH_KEYS } from "./keys/ssh";
import { CADC_KEYS } from "./keys/cadc";
import { WORKER_IMAGE_KEYS } from "./keys/worker-image";
import { BATCH_HOST_KEYS } from "./keys/batch-host";
import { POOL_KEYS } from "./keys/pool";

/**
 * Every `canfar:*` key, each said once in its group's file (config/keys/): the schema's
 * shape, the secret, list and batch-system keys, the placeholders and the reference are
 * read from here. The groups' order is the README's and the one "known keys:" lists.
 */
const GROUPS = [BUILD_VM_KEYS, SSH_KEYS, CADC_KEYS, WORKER_IMAGE_KEYS, BATCH_HOST_KEYS, POOL_KEYS] as const;
export const KEY_GROUPS: readonly KeyGroup[] = GROUPS;

/** The groups' entries in one object, typed key by key. */
type Joined<T extends readonly unknown[]> = T extends readonly [infer Head, ...infer Rest] ? Head & Joined<Rest> : unknown;

function join(groups: readonly KeyGroup[]): KeyGroup {
  const all: KeyGroup = {};
  for (const group of groups) {
    for (const [key, spec] of Object.entries(group)) {
      // A key said twice would have one of its sayings silently win.
      if (Object.hasOwn(all, key)) throw new Error(`config/keys: canfar:${key} is declared in two groups`);
      all[key] = spec;
    }
  }
  return all;
}

export const KEYS = join(GROUPS) as Joined<typeof GROUPS>;

type Keys = typeof KEYS;
export type KeyName = keyof Keys;

export const KNOWN_KEYS: readonly string[] = Object.keys(KEYS);

/** What the table says of `key`, or undefined for a key it does not have. */
export function keySpec(key: string): KeySpec | undefined {
  return Object.hasOwn(KEYS, key) ? (KEYS as Record<string, KeySpec>)[key] : undefined;
}

/** The keys whose spec passes `test`, in the table's order. */
function keysWhere(test: (spec: KeySpec) => boolean): string[] {
  return Object.entries(KEYS as Record<string, KeySpec>).flatMap(([key, spec]) => (test(spec) ? [key] : []));
}

/** The zod object shape: each key's parser. */
export type Shape = { [K in KeyName]: Keys[K]["parser"] };
// Object.fromEntries forgets which parser goes with which key; the mapping above keeps it.
export const SHAPE = Object.fromEntries(Object.entries(KEYS).map(([key, spec]) => [key, spec.parser])) as Shape;

export type SecretKey = { [K in KeyName]: Keys[K] extends { secret: true } ? K : never }[KeyName];
/** Keys whose values must arrive as Pulumi secrets: they are never stored in plain text. */
export const SECRET_KEYS = keysWhere((s) => s.secret === true) as readonly SecretKey[];

/** Keys only one batch system reads, the other refuses by name (batch-system-keys.ts). */
export function batchSystemKeys(system: BatchSystem): readonly string[] {
  return keysWhere((s) => s.batchSystem === system);
}
