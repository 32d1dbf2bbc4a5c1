import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, mkdtempSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SECRET_MARK, type PlannedResource } from "../../offline/capture";
import type { Evaluation } from "../../offline/evaluate";
import { toComponentDot, toDetailDot, toSvg } from "./graph";
import { REPO_ROOT } from "../../lib/repo-root";
import { checkOutDir, RENDER_MARKER, RENDER_MARKER_TEXT, type OutDirContext } from "./out-dir";

const INSTANCE = "openstack:compute/instance:Instance";
const COPY = "command:remote:CopyToRemote";
const COMMAND = "command:remote:Command";
// Files delivered on stdin end their command with `mv -f '<partial>' '<final path>'`.
const STDIN_DELIVERY = /mv -f '[^']*' '([^']+)'$/;

interface AssetInput {
  kind?: string;
  path?: string;
  text?: string;
}

export interface RenderOptions {
  /**
   * Also write graph-detail.dot/svg, every resource and every dependency edge. Only when
   * asked: its layout takes longer than the component view's, and `npm run preview`
   * renders on every pull request.
   */
  detail?: boolean;
}

/** The files of a render, relative path → content, before anything touches the disk. */
export async function renderFiles(evaluation: Evaluation, opts: RenderOptions = {}): Promise<Map<string, string | Buffer>> {
  const files = new Map<string, string | Buffer>();
  // `root`: the checkout rendered from; local paths under it are compared relative to it.
  files.set("plan.json", `${JSON.stringify({ root: REPO_ROOT, resources: evaluation.resources, outputs: evaluation.outputs }, null, 2)}\n`);
  const dot = toComponentDot(evaluation.resources);
  files.set("graph.dot", dot);
  files.set("graph.svg", await toSvg(dot));
  if (opts.detail) {
    const detail = toDetailDot(evaluation.resources);
    files.set("graph-detail.dot", detail);
    files.set("graph-detail.svg", await toSvg(detail));
  }
  for (const r of evaluation.resources) {
    const inputs = r.inputs as Record<string, unknown>;
    // The user-data holds the host key, so it is a secret: written with the key as [secret].
    const userData = r.redactedInputs?.userData ?? inputs.userData;
    if (r.type === INSTANCE && typeof userData === "string" && !userData.startsWith(SECRET_MARK)) {
      files.set(join("cloud-init", `${r.name}.yaml`), userData);
    }
    if (r.type === COPY) addDelivered(files, r, inputs);
    const delivered = r.type === COMMAND && typeof inputs.create === "string" ? STDIN_DELIVERY.exec(inputs.create) : null;
    if (delivered && typeof inputs.stdin === "string") files.set(join("ssh", r.name, delivered[1]), inputs.stdin);
  }
  return files;
}

/** What a CopyToRemote puts on the VM, under ssh/<resource>/<remote path>. */
function addDelivered(files: Map<string, string | Buffer>, r: PlannedResource, inputs: Record<string, unknown>): void {
  const source = inputs.source as AssetInput | undefined;
  const remote = typeof inputs.remotePath === "string" ? inputs.remotePath : basename(source?.path ?? r.name);
  const target = join("ssh", r.name, remote.replace(/^\/+/, ""));
  if (source?.text !== undefined) files.set(target, source.text);
  else if (source?.path !== undefined) files.set(target, readFileSync(source.path));
}

/**
 * Writes every file into a sibling staging directory and then swaps it in, so a failed
 * render never leaves a mix of old and new files under --out. Only a directory that is new,
 * empty or an earlier render is replaced (out-dir.ts); anything else is an OutDirError,
 * with nothing touched. Returns the absolute path written.
 */
export function writeAtomically(outDir: string, files: Map<string, string | Buffer>, context: OutDirContext = { cwd: process.cwd(), checkout: REPO_ROOT }): string {
  const target = resolve(context.cwd, outDir);
  checkOutDir(target, context);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(`${target}.staging-`);
  try {
    writeFileSync(join(staging, RENDER_MARKER), RENDER_MARKER_TEXT);
    for (const [rel, content] of files) {
      const path = join(staging, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    const old = `${target}.old-${process.pid}`;
    if (existsSync(target)) renameSync(target, old);
    renameSync(staging, target);
    rmSync(old, { recursive: true, force: true });
    return target;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
