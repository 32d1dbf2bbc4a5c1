import { describe, expect, it } from "vitest";
import type { RootHandle } from "../../harness/debian-root";
import { missing } from "../support/requirements";
import { cadcGetCertDouble } from "../../harness/cadc-get-cert-double";
import { freshRootEachTest, stateListing, writeExecutable } from "./root-fixtures";

const why = missing({ root: true, commands: ["debootstrap", "unshare", "nsenter", "chroot", "flock"] });
const USER = "jdoe";
const PASSWORD = "s3cret-Pa55!w0rd";
const HOSTS = [
  "ws-cadc.canfar.net",
  "ws-uv.canfar.net",
  "www.canfar.net",
  "www.cadc-ccda.hia-iha.nrc-cnrc.gc.ca",
  "www.canfar.phys.uvic.ca",
];
const DAY = 86_400;

describe.skipIf(why)("cadc-credentials.sh in a Debian root", () => {
  let root: RootHandle;
  let script: string;
  freshRootEachTest("shared/cadc-credentials.sh", async (r, s) => {
    root = r;
    script = s;
    await writeExecutable(root, "/usr/local/bin/cadc-get-cert", cadcGetCertDouble({ user: USER, password: PASSWORD }));
    await root.runOk(`useradd -m -s /bin/bash ${USER}`);
  });

  const asUser = (args: string[], stdin: string) => root.run([script, ...args], { user: USER, stdin });
  const sh = async (cmd: string, user?: string): Promise<string> => (await root.runOk(cmd, { user })).stdout.trim();
  const certValidFor = async (seconds: number): Promise<boolean> =>
    (await root.run(`openssl x509 -checkend ${seconds} -noout -in ~/.ssl/cadcproxy.pem`, { user: USER })).code === 0;

  it("writes ~/.netrc (600) and a verified proxy certificate, the password in no argv or output", async () => {
    const r = await asUser([], `${PASSWORD}\n`);
    expect(r.stderr).toContain("cadc-credentials: wrote /home/jdoe/.netrc for 5 CADC hosts");
    expect(r.code).toBe(0);
    expect(await sh("cat ~/.netrc", USER)).toBe(HOSTS.map((h) => `machine ${h} login ${USER} password ${PASSWORD}`).join("\n"));
    expect(await sh(`stat -c '%a %U' ~/.netrc ~/.ssl ~/.ssl/cadcproxy.pem`, USER)).toBe(`600 ${USER}\n700 ${USER}\n600 ${USER}`);
    expect(await certValidFor(9 * DAY)).toBe(true);
    expect(await certValidFor(11 * DAY)).toBe(false);
    const calls = await sh("cat /tmp/cadc-get-cert.calls");
    expect(calls).toMatch(/^-n --days-valid 10 --cert-filename \/home\/jdoe\/\.ssl\/cadcproxy\.pem\.[A-Za-z0-9]{6}$/);
    expect(await sh("cat /tmp/cadc-get-cert.ps")).toContain("cadc-credentials.sh");
    expect(await sh("cat /tmp/cadc-get-cert.ps")).not.toContain(PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    expect(await sh("ls -A ~ ~/.ssl", USER)).not.toMatch(/\.netrc\.|cadcproxy\.pem\./);
  });

  it("leaves an unchanged ~/.netrc untouched on a re-run, and renews the certificate", async () => {
    await asUser([], `${PASSWORD}\n`);
    const netrcBefore = await stateListing(root, [`/home/${USER}/.netrc`]);
    const certBefore = await sh("sha256sum ~/.ssl/cadcproxy.pem", USER);
    const r = await asUser([], `${PASSWORD}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("/home/jdoe/.netrc already up to date");
    expect(await stateListing(root, [`/home/${USER}/.netrc`])).toBe(netrcBefore);
    expect(await sh("sha256sum ~/.ssl/cadcproxy.pem", USER)).not.toBe(certBefore);
  });

  it("catches cadc-get-cert's FAILED-and-exit-0 trap and keeps the previous certificate", async () => {
    await asUser([], `${PASSWORD}\n`);
    const certBefore = await sh("sha256sum ~/.ssl/cadcproxy.pem", USER);
    const r = await asUser([], "wrong-password\n");
    expect(r.stdout).toContain("FAILED: invalid username/password");
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      "cadc-credentials: error: no valid proxy certificate from cadc-get-cert (wrong CADC user name or password?): /home/jdoe/.ssl/cadcproxy.pem left unchanged",
    );
    expect(await sh("sha256sum ~/.ssl/cadcproxy.pem", USER)).toBe(certBefore);
    expect(await sh("ls -A ~/.ssl", USER)).toBe("cadcproxy.pem");
  });

  it("fails with its own status when there was no certificate before either", async () => {
    const r = await asUser(["--user", "someoneelse"], `${PASSWORD}\n`);
    expect(r.code).toBe(4);
    expect(await sh("ls -A ~/.ssl", USER)).toBe("");
  });

  it("exits 3 when cadc-get-cert itself fails", async () => {
    await sh("touch /tmp/cadc-get-cert.down");
    const r = await asUser([], `${PASSWORD}\n`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cadc-credentials: error: cadc-get-cert failed; see its messages above");
  });

  it("passes --cert-days and --user through", async () => {
    await writeExecutable(root, "/usr/local/bin/cadc-get-cert", cadcGetCertDouble({ user: "jdoe_astro", password: PASSWORD }));
    const r = await asUser(["--user", "jdoe_astro", "--cert-days", "3"], `${PASSWORD}\n`);
    expect(r.code).toBe(0);
    expect(await sh("head -1 ~/.netrc", USER)).toBe(`machine ws-cadc.canfar.net login jdoe_astro password ${PASSWORD}`);
    expect(await sh("cat /tmp/cadc-get-cert.calls")).toMatch(/^-n --days-valid 3 /);
    expect(await certValidFor(2 * DAY)).toBe(true);
    expect(await certValidFor(4 * DAY)).toBe(false);
  });

  it("--cert-only writes just the certificate: no ~/.netrc, no temporary .netrc left, the password in no argv", async () => {
    await root.runOk(`install -d -o ${USER} -m 700 /home/${USER}/run`);
    const r = await asUser(["--cert-only", `/home/${USER}/run/cadcproxy.pem`, "--cert-days", "2"], `${PASSWORD}\n`);
    expect(r.stderr).toContain(`proxy certificate /home/${USER}/run/cadcproxy.pem valid until`);
    expect(r.code).toBe(0);
    expect(await sh("stat -c '%a' ~/run/cadcproxy.pem", USER)).toBe("600");
    expect((await root.run("openssl x509 -checkend 86400 -noout -in ~/run/cadcproxy.pem", { user: USER })).code).toBe(0);
    expect(await sh("ls -A ~", USER)).not.toMatch(/netrc|\.ssl/);
    expect(await sh("ls -A /tmp")).not.toMatch(/cadc-credentials\./);
    expect(await sh("grep -rlF -- " + JSON.stringify(PASSWORD) + " /home /tmp /var/tmp || true")).toBe("");
    expect(await sh("cat /tmp/cadc-get-cert.ps")).not.toContain(PASSWORD);
    expect(await sh("cat /tmp/cadc-get-cert.calls")).toMatch(/^-n --days-valid 2 --cert-filename \/home\/jdoe\/run\/cadcproxy\.pem\.[A-Za-z0-9]{6}$/);
  });

  it("never shows the password under bash -x or an exported xtrace, and stays 600 under umask 000", async () => {
    const traced = await root.run(`umask 000; bash -x ${script}`, { user: USER, stdin: `${PASSWORD}\n` });
    expect(traced.code).toBe(0);
    expect(traced.stderr).not.toContain(PASSWORD);
    const exported = await root.run(`umask 000; ${script}`, { user: USER, stdin: `${PASSWORD}\n`, env: { SHELLOPTS: "xtrace" } });
    expect(exported.code).toBe(0);
    expect(exported.stderr).not.toContain(PASSWORD);
    expect(await sh("stat -c '%a' ~/.netrc ~/.ssl/cadcproxy.pem", USER)).toBe("600\n600");
  });

  it("rejects bad arguments and passwords with exit 2, writing nothing (one root for all)", async () => {
    const cases: Array<[args: string[], stdin: string, message: string]> = [
      [[], "", "cadc-credentials: error: no password on standard input (pipe it in: cadc-credentials.sh <password-file)"],
      [[], "two words\n", "cadc-credentials: error: the password contains whitespace, a quote or a backslash"],
      [[PASSWORD], `${PASSWORD}\n`, `cadc-credentials: error: unknown argument '${PASSWORD}' (the password is read from standard input, never from arguments)`],
      [["--cert-days", "0"], `${PASSWORD}\n`, "cadc-credentials: error: --cert-days: expected a whole number of days from 1 to 30, got '0'"],
      [["--cert-days", "31"], `${PASSWORD}\n`, "cadc-credentials: error: --cert-days: expected a whole number of days from 1 to 30, got '31'"],
      [["--user", "j doe"], `${PASSWORD}\n`, "cadc-credentials: error: --user: 'j doe' is not a CADC user name (lowercase letters, digits, _ and -, at most 32, not starting with a digit or -)"],
      [["--user"], `${PASSWORD}\n`, "cadc-credentials: error: --user needs a value"],
      [["--cert-only", "/nowhere/cadcproxy.pem"], `${PASSWORD}\n`, "cadc-credentials: error: --cert-only: the directory of '/nowhere/cadcproxy.pem' does not exist"],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await asUser(args, stdin);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(message);
      expect(await sh("ls -A ~", USER)).not.toMatch(/netrc|\.ssl/);
      expect(await sh("test -e /tmp/cadc-get-cert.calls && echo called || echo not-called")).toBe("not-called");
    }
  });
});
