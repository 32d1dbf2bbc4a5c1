import { lstatSync, mkdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing } from "../support/requirements";
import { filesUnder, PIPELINE_DIR, REPO, run, SMOKE_DIR, tempDir, TOOLS } from "./support";

// install-pipeline.sh under DESTDIR (the host's /usr/local is not ours to change), then
// smoke-test.sh driving the installed copy on the committed smoke fixture.
const why = missing({ commands: TOOLS });
const INSTALL = join(REPO, "provisioning", "build-vm", "install-pipeline.sh");
const SMOKE = join(REPO, "provisioning", "build-vm", "smoke-test.sh");
const SHARE = "usr/local/share/canfar-batch/pipeline";

describe.skipIf(why)("install-pipeline.sh and smoke-test.sh", () => {
  let root: string;
  let first: ReturnType<typeof run>;

  beforeAll(() => {
    root = tempDir("install-root");
    first = run(INSTALL, [PIPELINE_DIR], { DESTDIR: root });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("installs the script, its configuration and the /usr/local/bin link", () => {
    expect(first.status, first.stderr).toBe(0);
    expect(filesUnder(root)).toEqual([
      "usr/local/bin/do_catalogue.bash",
      `${SHARE}/catalogue-check.bash`,
      `${SHARE}/catalogue-extract.bash`,
      `${SHARE}/catalogue-headers.bash`,
      `${SHARE}/catalogue-queue.bash`,
      `${SHARE}/catalogue-settings.bash`,
      `${SHARE}/catalogue-transfer.bash`,
      `${SHARE}/catalogue.param`,
      `${SHARE}/catalogue.sex`,
      `${SHARE}/default.conv`,
      `${SHARE}/default.nnw`,
      `${SHARE}/do_catalogue.bash`,
      `${SHARE}/merge-catalogues.awk`,
    ].sort());
    expect(readlinkSync(join(root, "usr/local/bin/do_catalogue.bash"))).toBe(`/${SHARE}/do_catalogue.bash`);
    expect(statSync(join(root, SHARE, "do_catalogue.bash")).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, SHARE, "catalogue.sex")).mode & 0o777).toBe(0o644);
  });

  it("a second run changes nothing and exits 0", () => {
    const before = filesUnder(root).map((f) => [f, lstatSync(join(root, f)).mtimeMs]);
    const again = run(INSTALL, [PIPELINE_DIR], { DESTDIR: root });
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("already up to date");
    expect(filesUnder(root).map((f) => [f, lstatSync(join(root, f)).mtimeMs])).toEqual(before);
  });

  it("refuses a directory that is not the pipeline source", () => {
    const r = run(INSTALL, [join(REPO, "tools")], { DESTDIR: root });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("has no do_catalogue.bash");
  });

  it("the smoke test passes with the installed pipeline on the committed fixture", () => {
    const r = run(SMOKE, [SMOKE_DIR], { SMOKE_PIPELINE: join(root, SHARE, "do_catalogue.bash") });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/smoke-test\.sh: passed: [1-9][0-9]* sources in 1056213p\.cat/);
  });

  it("the smoke test fails clearly when the pipeline fails", () => {
    const broken = tempDir("install-broken");
    try {
      mkdirSync(join(broken, "bin"));
      const fake = join(broken, "bin", "do_catalogue.bash");
      writeFileSync(fake, "#!/usr/bin/env bash\nexit 5\n", { mode: 0o755 });
      const r = run(SMOKE, [SMOKE_DIR], { SMOKE_PIPELINE: fake });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("FAILED");
      expect(r.stderr).toContain("exited 5");
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it("the smoke test fails clearly when the catalogue holds no sources", () => {
    const broken = tempDir("install-empty");
    try {
      const fake = join(broken, "do_catalogue.bash");
      writeFileSync(fake, '#!/usr/bin/env bash\necho "#   1 NUMBER" > "${CATALOGUE_DEST}/$1.cat"\n', { mode: 0o755 });
      const r = run(SMOKE, [SMOKE_DIR], { SMOKE_PIPELINE: fake });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("holds no sources");
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it("the smoke test fails clearly when no pipeline is installed", () => {
    const r = run(SMOKE, [SMOKE_DIR], { SMOKE_PIPELINE: join(root, "nothing-here") });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is not installed");
  });
});
