import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENERATOR_VERSION, writeExposure } from "./exposure";

/**
 * Synthetic exposures kept between runs under the system temp directory, keyed by generator
 * version and every parameter, so tests and benchmarks make the 340 MB exposure once.
 */
export interface CachedExposure {
  id: string;
  dir: string;
  fzPath: string;
  starsPath: string;
}

export interface SampleSpec {
  id?: string;
  ccds: number;
  width: number;
  height: number;
  seed: number;
  starsPerCcd?: number;
}

export function sampleCacheRoot(): string {
  return process.env.CANFAR_BATCH_SAMPLE_CACHE ?? join(tmpdir(), "canfar-batch-samples");
}

export async function ensureSampleExposure(spec: SampleSpec, log: (line: string) => void = () => {}): Promise<CachedExposure> {
  const id = spec.id ?? "1056213p";
  const key = `v${GENERATOR_VERSION}-${id}-${spec.ccds}x${spec.width}x${spec.height}-s${spec.seed}-n${spec.starsPerCcd ?? "auto"}`;
  const root = sampleCacheRoot();
  const dir = join(root, key);
  const result = { id, dir, fzPath: join(dir, `${id}.fits.fz`), starsPath: join(dir, `${id}.stars.tsv`) };
  if (existsSync(result.fzPath) && existsSync(result.starsPath)) return result;
  mkdirSync(root, { recursive: true });
  // Made beside the final directory and renamed into place: a crash or a concurrent maker
  // never leaves a half-written exposure under the final name.
  const building = mkdtempSync(join(root, `.${key}-`));
  try {
    log(`generating ${spec.ccds} CCDs of ${spec.width}x${spec.height} into ${dir}`);
    await writeExposure({ ...spec, id, outDir: building, onProgress: (d, t) => log(`ccd ${d}/${t} written`) });
    try {
      renameSync(building, dir);
    } catch (e) {
      if (!existsSync(result.fzPath)) throw e;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return result;
}
