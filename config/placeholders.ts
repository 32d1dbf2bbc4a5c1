import { KEYS } from "./keys";
import type { KeyPlaceholder, KeySpec } from "./keys/key-spec";

/**
 * The values the example stacks (Pulumi.dev.yaml, Pulumi.self-hosted.yaml) give where only the
 * user's own will do. A copied example validates, renders and even starts a `pulumi up` with
 * them, so the program warns (never fails: the examples must render) on every one still there.
 * Each key's is in its group's file (config/keys/); tests/config/placeholders.test.ts holds
 * them and the example files to each other.
 */
export interface Placeholder extends KeyPlaceholder {
  key: string;
}

/** In the table's order, which is the order the warning names them. */
export const PLACEHOLDERS: readonly Placeholder[] = Object.entries(KEYS as Record<string, KeySpec>).flatMap(([key, spec]) => (spec.placeholder === undefined ? [] : [{ key, ...spec.placeholder }]));

/** The words and list items of a raw value (lists arrive as JSON text). */
function partsOf(value: string): string[] {
  if (value.startsWith("[")) {
    try {
      const items: unknown = JSON.parse(value);
      if (Array.isArray(items)) return items.filter((i): i is string => typeof i === "string");
    } catch {
      // Not a list after all: its words, as for any other value.
    }
  }
  return value.trim().split(/\s+/);
}

/**
 * One warning naming every `canfar:*` value (raw, without namespace) still equal to the
 * example's placeholder, or undefined when none is.
 */
export function placeholderWarning(raw: Readonly<Record<string, string>>): string | undefined {
  const found = PLACEHOLDERS.filter((p) => raw[p.key] !== undefined && partsOf(raw[p.key] as string).includes(p.value));
  if (found.length === 0) return undefined;
  const lines = found.map((p) => `  - canfar:${p.key}: still the example's ${p.value.length > 32 ? `${p.value.slice(0, 20)}...` : `'${p.value}'`}; set ${p.instead}`);
  return `${found.length === 1 ? "a value is" : `${found.length} values are`} still the example stack's placeholder${found.length === 1 ? "" : "s"} (fine for an offline render; \`pulumi up\` would use ${found.length === 1 ? "it" : "them"}):\n${lines.join("\n")}`;
}
