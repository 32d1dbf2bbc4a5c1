import type { z } from "zod";
import type { BatchSystem } from "../../domain/batch-system";

/**
 * How a value reaches its parser and which early checks apply (value-checks.ts): text (a
 * YAML boolean there is refused as a mistaken name), lines (text that may span lines: the
 * private key), a list (JSON text, each item checked as text), a boolean or a number.
 */
export type KeyKind = "text" | "lines" | "list" | "boolean" | "number";

/**
 * A key's row in the config reference: what it is for, its default and what changing it
 * after the build does (Magic Castle documents its variables this way).
 */
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

/** What the example stacks give where only the user's own will do (placeholders.ts). */
export interface KeyPlaceholder {
  /** The example's value: the whole value, a list item, or (for keys) the base64 word. */
  value: string;
  /** What to put there instead. */
  instead: string;
}

/**
 * Everything said of one `canfar:*` key. Rules between keys are not here: they stay with
 * the settings they make (schema.ts).
 */
export interface KeySpec {
  /** The key's own rule, default and type; its output is the key's field in the settings. */
  parser: z.ZodType;
  kind: KeyKind;
  /** Must arrive as a Pulumi secret: never stored in plain text. */
  secret?: true;
  /** Only this batch system reads it; with the other one it is refused by name. */
  batchSystem?: BatchSystem;
  /** The example stacks' value the program warns about while it is still there. */
  placeholder?: KeyPlaceholder;
  reference: KeyReference;
}

/** A group of keys, in the order the README lists them. */
export type KeyGroup = Record<string, KeySpec>;

/** A value in the reference's markdown, as code. */
export const code = (value: string) => `\`${value}\``;
