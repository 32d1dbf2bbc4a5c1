import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { PlannedResource } from "../../offline/capture";
import { evaluate } from "../../offline/evaluate";
import { configFromDocument, type StackConfig } from "../../offline/stack-file";

const ROOT = join(__dirname, "..", "..");

/** The example stacks: `dev` (CANFAR's batch service) and `self-hosted` (the stack's own pool). */
export type ExampleStack = "dev" | "self-hosted";

/** A change of a copy of Pulumi.<stack>.yaml (dev unless said): keys set (YAML values) and keys removed. */
export interface StackEdit {
  set?: Record<string, unknown>;
  remove?: string[];
  /** The example stack the change is made to (and measured from). */
  stack?: ExampleStack;
}

/** An example stack's config document, parsed, as the engine would read it. */
export function stackDocument(stack: ExampleStack = "dev"): { config: Record<string, unknown> } {
  return parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
}

/** The dev stack's config document, parsed, as the engine would read it. */
export function devDocument(): { config: Record<string, unknown> } {
  return stackDocument("dev");
}

export function editedConfig(edit: StackEdit): StackConfig {
  const stack = edit.stack ?? "dev";
  const doc = stackDocument(stack);
  for (const [k, v] of Object.entries(edit.set ?? {})) doc.config[`canfar:${k}`] = v;
  for (const k of edit.remove ?? []) delete doc.config[`canfar:${k}`];
  return configFromDocument(doc, `Pulumi.${stack}.yaml (edited copy)`);
}

/** The example stack's resources after `edit` (dev unless it says), as `npm run render` would record them. */
export async function renderDev(edit: StackEdit = {}): Promise<PlannedResource[]> {
  return (await evaluate("canfar-batch", edit.stack ?? "dev", editedConfig(edit))).resources;
}
