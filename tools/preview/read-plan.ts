import { readFileSync } from "node:fs";
import type { PlannedResource } from "../../offline/capture";

/** Where a render's checkout stood, in values that name a local path. */
export const REPO = "${repo}";

/**
 * Local paths (a script's path, a command's `dir`) as paths inside the checkout: an admin's
 * checkout stays where it is from one `pulumi up` to the next, while CI renders base and
 * head in two directories.
 */
export function relativeToRoot<T>(value: T, root: string): T {
  if (typeof value === "string") return (value === root || value.startsWith(`${root}/`) ? REPO + value.slice(root.length) : value) as T;
  if (Array.isArray(value)) return value.map((v) => relativeToRoot(v, root)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativeToRoot(v, root)])) as T;
  }
  return value;
}

/** The resources of a render's plan.json; older renders lack options and property dependencies, which is fine. */
export function readPlan(path: string): PlannedResource[] {
  const doc = JSON.parse(readFileSync(path, "utf8")) as { root?: unknown; resources?: unknown };
  if (!Array.isArray(doc.resources)) throw new Error(`${path}: no 'resources' list; is it a render's plan.json?`);
  for (const [i, r] of (doc.resources as Array<Record<string, unknown>>).entries()) {
    if (typeof r.urn !== "string" || typeof r.type !== "string" || typeof r.name !== "string") {
      throw new Error(`${path}: resources[${i}] has no urn, type and name`);
    }
  }
  const resources = doc.resources as PlannedResource[];
  return typeof doc.root === "string" ? relativeToRoot(resources, doc.root) : resources;
}
