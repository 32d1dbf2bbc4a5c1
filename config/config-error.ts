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
    const lines = sorted.map((p) => `  - ${p.key}: ${p.message}`);
    super(`Invalid ${source}:\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.problems = sorted;
  }
}
