/**
 * What a command whose streams hold no secret logs: both, its progress lines. pulumi-command
 * logs both when `logging` is unset too, but every command here says what it logs, so that
 * one whose output is a secret (the host keys) is a choice made, not a default missed.
 */
export const LOG_BOTH = "stdoutAndStderr" as const;

/**
 * ignoreChanges for a command with `logging: LOG_BOTH`. Stacks made before `logging` was set
 * hold it unset, which logs the same; the provider still sees a change and runs the command
 * again (its `update`, or its `create` when it has none: a provisioning step over SSH, on a
 * build VM a snapshot may have stopped). A later change of `logging` needs a replacement.
 */
export const SAME_AS_UNSET_LOGGING: readonly string[] = ["logging"];
