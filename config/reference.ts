import { effectText } from "./change-effects";
import { NAMESPACE } from "./schema";
import { KEYS, KNOWN_KEYS, SECRET_KEYS } from "./keys";
import type { KeyReference } from "./keys/key-spec";

export type { KeyReference } from "./keys/key-spec";

/**
 * What each key is for, its default and what changing it after the build does: each key's
 * row is in its group's file (config/keys/). The README's table is generated from this
 * (`npm run config-reference`); a test keeps it complete and the README in step.
 */
export const REFERENCE: Record<string, KeyReference> = Object.fromEntries(Object.entries(KEYS).map(([key, spec]) => [key, spec.reference]));

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
