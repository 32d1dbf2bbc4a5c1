import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { doublesEnv, run, tempDir } from "./support";

// The CADC stand-ins cost time in proportion to size when given a bandwidth, as the archive
// does (the throughput bench and the queue's interrupt test rely on it).
describe("cadcget and vcp doubles with CADC_DOUBLE_BANDWIDTH and CADC_DOUBLE_LATENCY", () => {
  const root = tempDir("transfer-cost");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "archive", "CFHT"), { recursive: true });
  mkdirSync(join(root, "vos", "cats"), { recursive: true });
  writeFileSync(join(root, "archive", "CFHT", "2400001p.fits.fz"), Buffer.alloc(400_000, 7));
  const env = (extra: Record<string, string>) => doublesEnv(join(root, "log"), { CADC_DOUBLE_ROOT: join(root, "archive"), VOS_DOUBLE_ROOT: join(root, "vos"), ...extra });
  const get = (extra: Record<string, string>) => run("cadcget", ["-o", join(root, "out.fz"), "cadc:CFHT/2400001p.fits.fz"], env(extra));

  it("take size / bandwidth + latency seconds, and no time without them", () => {
    const fast = get({});
    expect(fast.status, fast.stderr).toBe(0);
    expect(fast.seconds).toBeLessThan(0.6);
    const slow = get({ CADC_DOUBLE_BANDWIDTH: "400000", CADC_DOUBLE_LATENCY: "0.3" });
    expect(slow.status, slow.stderr).toBe(0);
    expect(slow.seconds).toBeGreaterThanOrEqual(1.3);
    const up = run("vcp", [join(root, "out.fz"), "vos:cats/x.cat"], env({ CADC_DOUBLE_BANDWIDTH: "800000" }));
    expect(up.status, up.stderr).toBe(0);
    expect(up.seconds).toBeGreaterThanOrEqual(0.5);
  });

  it("refuse a bandwidth that is not bytes/s", () => {
    const r = get({ CADC_DOUBLE_BANDWIDTH: "1MB" });
    expect(r.status).toBe(255);
    expect(r.stderr).toContain("CADC_DOUBLE_BANDWIDTH '1MB' must be bytes/s");
  });
});
