import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
import { freshFakePath } from "../support/fake-path";

const SCRIPT = resolve(__dirname, "../../provisioning/build-vm/package-versions.sh");

// Fakes on an otherwise empty PATH: this host has dpkg-query, and the rpm branch must be
// proven too. Each fake prints how it was called, in the format it was asked for.
describe("package-versions.sh", () => {
  const path = freshFakePath();
  const fake = path.fake;
  const run = (args: string[]) => path.run(SCRIPT, args);

  it("asks dpkg-query for Package=Version of each package where it exists", async () => {
    fake("dpkg-query", `printf '[%s]' "$@"`);
    fake("rpm", "exit 99");
    const r = await run(["source-extractor", "libcfitsio-bin"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("[-W][-f=${Package}=${Version} ][source-extractor][libcfitsio-bin]");
  });

  it("asks rpm for NAME=VERSION-RELEASE where dpkg-query is absent (Rocky)", async () => {
    fake("rpm", `printf '[%s]' "$@"`);
    const r = await run(["sextractor", "cfitsio-utils"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("[-q][--qf][%{NAME}=%{VERSION}-%{RELEASE} ][sextractor][cfitsio-utils]");
  });

  it("fails with the package manager's status when a package is missing", async () => {
    fake("dpkg-query", "echo \"dpkg-query: no packages found matching $3\" >&2; exit 1");
    const r = await run(["no-such-package"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no packages found matching no-such-package");
  });

  it("says so when neither package manager is there", async () => {
    const r = await run(["bash"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("package-versions.sh: error: neither dpkg-query nor rpm is on PATH");
  });

  it.each([
    [[], "expected at least one PACKAGE"],
    [["-W"], "PACKAGE '-W' is not a package name"],
    [["ok", "a b"], "PACKAGE 'a b' is not a package name"],
  ])("refuses %j before asking anything", async (args, message) => {
    fake("dpkg-query", "echo called >&2; exit 99");
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("called");
  });

  it("--help prints the usage and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: package-versions.sh PACKAGE...");
  });
});
