import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlannedResource } from "../../offline/capture";
import { evaluate } from "../../offline/evaluate";
import { configFromDocument } from "../../offline/stack-file";

/** What the real engine printed (tests/fixtures/engine/README.md). */
const DIR = join(__dirname, "..", "fixtures", "engine");
export const ENGINE_PREVIEW = join(DIR, "extra-packages.engine-preview.json");
export const ENGINE_UP_LOG = join(DIR, "extra-packages.engine-up.log");
/** The stack the engine ran: its name is in every URN. */
export const ENGINE_STACK = "probe";

/**
 * The engine's stack as `npm run preview` renders it, from the configuration the engine
 * printed (the head of the change), with `set` applied; its secrets, shown as `[secret]`,
 * become the render's placeholders.
 */
export async function renderEngineStack(set: Record<string, string> = {}): Promise<PlannedResource[]> {
  return (await renderEngineStackWhole(set)).filter((r) => !DECLARED_SINCE.has(r.name));
}

/** The render as it is today, nothing left out: what DECLARED_SINCE is checked against. */
export async function renderEngineStackWhole(set: Record<string, string> = {}): Promise<PlannedResource[]> {
  const doc = JSON.parse(readFileSync(ENGINE_PREVIEW, "utf8")) as { config: Record<string, string> };
  const config = Object.fromEntries(
    Object.entries({ ...doc.config, ...set }).map(([k, v]) => [k, v === "[secret]" ? { secure: "AAABAENGINE-FIXTURE" } : v]),
  );
  return (await evaluate("canfar-batch", ENGINE_STACK, configFromDocument({ config }, ENGINE_PREVIEW))).resources;
}

/**
 * Resources the program declares that the engine's record predates: the build VM's copies of
 * the pipeline parts and the star/galaxy network issues 23 and 25 added. Left out of the render, the
 * rest is the program the engine ran; engine-preview.test.ts checks this list is exactly the
 * difference, so any other new resource needs a look (and, ideally, a new recording).
 */
export const DECLARED_SINCE: ReadonlySet<string> = new Set([
  "provision-copy-ubuntu-pipeline-catalogue-check-bash",
  "provision-copy-ubuntu-pipeline-catalogue-headers-bash",
  "provision-copy-ubuntu-pipeline-catalogue-queue-bash",
  "provision-copy-ubuntu-pipeline-default-nnw",
]);

/** Every resource name in the engine's record: the changed ones (it lists no unchanged step). */
export function engineRecordNames(): Set<string> {
  const doc = JSON.parse(readFileSync(ENGINE_PREVIEW, "utf8")) as { steps: Array<{ urn: string }> };
  return new Set(doc.steps.map((s) => s.urn.slice(s.urn.lastIndexOf("::") + 2)));
}

/**
 * Resources the engine's record has and the program no longer declares: the worker README's
 * copy to the build VM (docs are not staged since issue 22, so they are not in the image's
 * content hash). Left out of the record's steps and log, the rest is as the engine ran it.
 */
export const NO_LONGER_DECLARED = (name: string): boolean => name === "provision-copy-ubuntu-pipeline-README-md";

/** One line of the up log: `-- TYPE NAME deleting original (0s)` and the like. */
export interface LogEvent {
  type: string;
  name: string;
  what: string;
}

/** The engine's progress lines, in the order it printed them (types as the CLI prints them, `openstack:compute:Instance`). */
export function upLogEvents(): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of readFileSync(ENGINE_UP_LOG, "utf8").split("\n")) {
    const m = /^ ([-+~ ]{2}) (\S+) (\S+) (deleting original|deleted original|creating replacement|created replacement|replacing|replaced)\b/.exec(line);
    if (m?.[2] && m[3] && m[4] && !NO_LONGER_DECLARED(m[3])) events.push({ type: m[2], name: m[3], what: m[4] });
  }
  return events;
}
