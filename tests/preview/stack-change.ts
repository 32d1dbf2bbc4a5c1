import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { PlannedResource } from "../../tools/render/capture";
import { evaluate } from "../../tools/render/evaluate";
import { configFromDocument, type StackConfig } from "../../tools/render/stack-file";

const ROOT = join(__dirname, "..", "..");

/** A change of a copy of Pulumi.dev.yaml: keys set (YAML values) and keys removed. */
export interface StackEdit {
  set?: Record<string, unknown>;
  remove?: string[];
}

/** The dev stack's config document, parsed, as the engine would read it. */
export function devDocument(): { config: Record<string, unknown> } {
  return parse(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
}

export function editedConfig(edit: StackEdit): StackConfig {
  const doc = devDocument();
  for (const [k, v] of Object.entries(edit.set ?? {})) doc.config[`canfar:${k}`] = v;
  for (const k of edit.remove ?? []) delete doc.config[`canfar:${k}`];
  return configFromDocument(doc, "Pulumi.dev.yaml (edited copy)");
}

/** The dev stack's resources after `edit`, as `npm run render` would record them. */
export async function renderDev(edit: StackEdit = {}): Promise<PlannedResource[]> {
  return (await evaluate("canfar-batch", "dev", editedConfig(edit))).resources;
}
