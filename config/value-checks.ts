/**
 * Checks every raw value passes before its own rule: what YAML and a terminal can do to a
 * value that no field type catches. Pulumi hands each value over as text, so a blank key
 * arrives as "null" and an unquoted `true` as "true"; a pasted value can carry a line break
 * that would later be printed as a forged line, or fail an hour into `pulumi up`.
 */

/** C0 and C1 controls, DEL, line and paragraph separators, invisible and bidi format characters. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
/** The private key is the one multi-line value. */
const MULTILINE_OK = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

/** What YAML makes of a key with nothing after it (`canfar:cadcUser:`), as Pulumi passes it on. */
const BLANK = new Set(["", "null", "Null", "NULL", "~"]);
/** YAML booleans where a name was meant. */
const BOOLEAN = new Set(["true", "false", "True", "False", "TRUE", "FALSE"]);

/** Longest value of any key; OpenStack's own limit (255) applies to names, checked by their rules. */
const MAX_LENGTH = 4096;
const MAX_KEY_LENGTH = 16_384;

/** Describes a value for a message without echoing it: length and where it went wrong. */
function where(value: string, index: number): string {
  const code = value.codePointAt(index) ?? 0;
  return `character ${index + 1} is U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A problem with `value` (of `key`) before any rule of its own looks at it, or undefined.
 * Secrets get the same checks except the YAML-boolean one: a password may be "true".
 */
export function valueProblem(key: string, value: string, opts: { secret: boolean; textual: boolean; multiline: boolean; optional?: boolean }): string | undefined {
  const limit = opts.multiline ? MAX_KEY_LENGTH : MAX_LENGTH;
  if (value.length > limit) return `is ${value.length} characters long; expected at most ${limit}`;
  const forbidden = opts.multiline ? MULTILINE_OK : FORBIDDEN;
  const bad = forbidden.exec(value);
  if (bad) {
    const what = /[\r\n\u2028\u2029]/u.test(bad[0]) ? "a line break" : "a control or invisible character";
    return `contains ${what} (${where(value, bad.index)}); expected a single line of visible text`;
  }
  if (BLANK.has(value.trim())) {
    return `is blank (in YAML, \`${key}:\` with nothing after it is null); give it a value${opts.optional ? ", or remove the line to use the default" : ""}`;
  }
  if (opts.textual && !opts.secret && BOOLEAN.has(value)) {
    return `is the YAML boolean ${value.toLowerCase()}, not a name; quote it ('${value}') if that really is the name`;
  }
  return undefined;
}

/** Items of a list value: each must be text, and pass the same checks. */
export function listItemProblems(items: readonly unknown[], key: string): Array<[index: number, message: string]> {
  const problems: Array<[number, string]> = [];
  items.forEach((item, i) => {
    if (typeof item !== "string") {
      const kind = item === null ? "blank (null)" : Array.isArray(item) ? "a list" : typeof item === "object" ? "a map" : `the ${typeof item} ${String(item)}`;
      problems.push([i, `is ${kind}; expected text (quote it in YAML if it looks like a number)`]);
      return;
    }
    const p = valueProblem(`${key}[${i}]`, item, { secret: false, textual: true, multiline: false, optional: false });
    if (p) problems.push([i, p]);
  });
  return problems;
}

/** A value as a message may show it: quoted, escaped and short, so it can never forge a line. */
export function shown(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(short).replace(/[\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u0080-\u009f]/gu, (c) => `\\u${c.codePointAt(0)?.toString(16).padStart(4, "0")}`);
}
