/**
 * All problems found in a stack's configuration, reported together so a user fixes them in
 * one pass instead of one `pulumi up` per mistake (as eks' InputPropertiesError and Packer's
 * MultiErrorAppend do). Each problem names the full key (`canfar:flavor`).
 */
export interface ConfigProblem {
  /** Full config key, e.g. `canfar:flavor`. */
  key: string;
  /** What was expected and what to do, written for the person editing Pulumi.<stack>.yaml. */
  message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], source = "stack configuration") {
    const sorted = [...problems].sort((a, b) => a.key.localeCompare(b.key));
    const lines = sorted.map((p) => `  - ${oneLine(p.key)}: ${oneLine(p.message)}`);
    super(`Invalid ${source}:\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.problems = sorted;
  }
}

/**
 * A key or message as one line: no rule should echo a control character (value-checks.ts
 * refuses them first), and this makes sure none can forge another problem's line anyway.
 */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}
