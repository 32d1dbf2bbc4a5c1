import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { execCommand } from "../../harness/exec";
import { missing } from "../support/requirements";

const SCRIPT = resolve(__dirname, "../../tools/test-certificate.sh");
const why = missing({ commands: ["openssl"] });

describe.skipIf(why)("test-certificate.sh", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "test-certificate-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const me = userInfo().username;

  it("writes a certificate for CN=OWNER, then its key, private to the owner", async () => {
    const file = join(dir, "cadcproxy.pem");
    const r = await execCommand(["bash", SCRIPT, file, me, "2"]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const subject = await execCommand(["openssl", "x509", "-noout", "-subject", "-checkend", "86400", "-in", file]);
    expect(subject.code).toBe(0);
    expect(subject.stdout).toContain(`CN = ${me}`);
  });

  it.each([
    [[], "expected FILE OWNER [DAYS], got 0 argument(s)"],
    [["f", "Bad User"], "OWNER 'Bad User' is not a user name"],
    [["f", "root", "0"], "DAYS '0' is not a whole number of days from 1"],
  ])("refuses %j, naming what is wrong, and writes nothing", async (args, message) => {
    const r = await execCommand(["bash", SCRIPT, ...args.map((a) => (a === "f" ? join(dir, "f") : a))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`test-certificate.sh: error: ${message}`);
    expect(() => statSync(join(dir, "f"))).toThrow();
  });

  it("--help prints the usage and exits 0", async () => {
    const r = await execCommand(["bash", SCRIPT, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: test-certificate.sh FILE OWNER [DAYS]");
  });
});
