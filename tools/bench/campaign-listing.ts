/**
 * What a campaign's submission costs at survey scale: submit.sh against the VOSpace stand-in
 * (the vls/vmkdir/vcp/vrm doubles over a directory) holding `nodes` catalogues, for as many
 * exposures: half already catalogued by this pipeline, half by an older one, so the policy
 * `changed` queues half. Timed: the whole submit.sh run (arguments, the exposures file's
 * check, the destination's check, the one listing, the filter writing queue.txt, and the
 * condor_submit double counting its lines), i.e. an upper bound on listing + filter.
 *
 * Not the real service's cost: a real `vls` of 10,000 nodes pages through the VOSpace
 * service over the network; this measures the script's own work on such a listing.
 *
 *   npx tsx tools/bench/campaign-listing.ts [--nodes N]     (default 10000)
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CADC_DOUBLES_DIR, DOUBLES_DIR } from "../../harness/doubles/doubles-dir";
import { localPath, SCRIPTS } from "../../provisioning/scripts";

const SUBMIT = localPath(SCRIPTS.submit);
const CANFAR_DOUBLES = DOUBLES_DIR;
const VOS_DOUBLES = CADC_DOUBLES_DIR;
const P = "3fa9c0d21b7e";
const OLD = "0123456789ab";

/** The n-th exposure of the synthetic survey: 7 digits and `p`, as MegaCam's. */
const exposure = (n: number): string => `${2_000_000 + n}p`;

export interface ListingMeasure {
  seconds: number;
}

/** Times one submit.sh over `nodes` exposures and catalogues; throws if it fails or queues the wrong number. */
export async function measureListing(nodes: number): Promise<ListingMeasure> {
  if (!Number.isSafeInteger(nodes) || nodes < 2) throw new Error(`measureListing: nodes must be a whole number >= 2, got ${nodes}`);
  const dir = mkdtempSync(join(tmpdir(), "bench-campaign-listing-"));
  try {
    const cats = join(dir, "vospace", "me", "cats");
    const run = join(dir, "run");
    const state = join(dir, "state");
    for (const d of [cats, run, state]) mkdirSync(d, { recursive: true });
    const ids = Array.from({ length: nodes }, (_, i) => exposure(i));
    for (const [i, id] of ids.entries()) writeFileSync(join(cats, `${id}.${i % 2 === 0 ? P : OLD}.cat`), "");
    writeFileSync(join(run, "exposures.txt"), ids.map((id) => `${id}\n`).join(""));
    writeFileSync(join(run, "do_catalogue.sub"), "executable = do_catalogue.bash\nqueue arguments from queue.txt\n");
    copyFileSync(localPath(SCRIPTS.pipeline), join(run, SCRIPTS.pipeline.name));
    writeFileSync(join(state, "conf"), `CANFAR_DOUBLE_STATE='${state}'\n`);
    const started = process.hrtime.bigint();
    const r = spawnSync(
      "bash",
      [SUBMIT, "--run-dir", run, "--mode", "self-hosted", "--image", "bench-image", "--dest", "vos:me/cats", "--pipeline", P],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${CANFAR_DOUBLES}:${VOS_DOUBLES}:${process.env.PATH ?? ""}`,
          CANFAR_DOUBLE_CONF: join(state, "conf"),
          VOS_DOUBLE_ROOT: join(dir, "vospace"),
          DOUBLES_LOG: join(state, "vos.log"),
        },
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status !== 0) throw new Error(`submit.sh exited ${r.status}:\n${r.stderr}`);
    const queued = Math.ceil(nodes / 2);
    const expected = `queued ${nodes - queued} of ${nodes} (${queued} already catalogued by pipeline ${P}, 0 in flight)`;
    if (!r.stderr.includes(expected)) throw new Error(`submit.sh did not say '${expected}':\n${r.stderr}`);
    const listings = readFileSync(join(state, "vos.log"), "utf8").split("\n").filter((l) => l.startsWith("vls "));
    if (listings.length !== 1) throw new Error(`expected one listing, got ${listings.length}`);
    return { seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--nodes");
  const nodes = at < 0 ? 10_000 : Number(process.argv[at + 1]);
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write("usage: npx tsx tools/bench/campaign-listing.ts [--nodes N]  (default 10000)\n");
    return;
  }
  const { seconds } = await measureListing(nodes);
  process.stdout.write(`campaign listing: submit.sh over ${nodes} exposures and ${nodes} VOSpace nodes (one vls, filter, queue.txt): ${seconds.toFixed(2)} s\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
