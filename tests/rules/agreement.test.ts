import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SNAPSHOT_PREFIX_MAX, validateSettings } from "../../config/schema";
import { isImageName } from "../../domain/image-name";
import { renderSubmitFile, SubmitFileError } from "../../domain/submit-file";
import { isSystemAccount, SYSTEM_ACCOUNTS } from "../../domain/user-name";
import { VALID_RAW, VALID_SECRETS } from "../fixtures/stack-config";
import { missing } from "../support/requirements";

// Rules that TypeScript and bash both enforce, held to each other over one corpus per rule:
// a value the config accepts must never be refused by a script later (every job held, a
// provisioning step failing after the VM was paid for), and the scripts refuse nothing else.
const REPO = join(__dirname, "..", "..");
const script = (...parts: string[]) => join(REPO, "provisioning", ...parts);
const why = missing({ commands: ["bash", "setpriv"] });

const VOSPACE = [
  "vos:astronomer/catalogues", "vos:me", "vos:me/", "vos:me/cat+v2", "vos:my_project/run-1.2/cats", "vos:_x/y",
  "vos:my..cat", "vos:me/../other", "vos:me/./cats", "vos:me/.", "vos:me//cats", "vos:/abs", "vos:", "vos:.hidden",
  "vos:me/ca ts", "vos:me/cat$(id)", "vos:me/~tilde", "vos:me/naïve", "vos:-me", "cadc:CFHT", "vos:me/cats//",
];
const USERS = [
  "astronomer", "jdoe", "_svc", "j-doe_2", "a".repeat(32), "a".repeat(33), "JDoe", "jdoe.astro", "1jdoe", "-jdoe",
  "j doe", "jdoe$",
  // Every system account the config refuses, so create-user.sh's own list is held to it too.
  ...SYSTEM_ACCOUNTS,
];
const IMAGES = [
  "image-reduction-2026-12-02-0a1b2c3d4e", "a", "A.b_c-d", "x".repeat(255), "x".repeat(256), "-image", ".image", "_image",
  "my image", 'my"image', "image:tag", "image+1", "imäge", "", "image$(id)",
];

/** Accepted by the config, as `pulumi up` reads it: no problem named for `key`. */
function configAccepts(key: string, value: string): boolean {
  const result = validateSettings({ ...VALID_RAW, [key]: value }, VALID_SECRETS);
  return result.ok || !result.problems.some(([k]) => k === key);
}

/** Runs a script and says whether its argument check let `value` through. */
function scriptAccepts(argv: string[], refusedMessage: string, opts: { env?: Record<string, string>; asNobody?: boolean } = {}): boolean {
  // create-user.sh checks the name before it checks for root: run as nobody, it can never
  // create an account, and an accepted name stops at "must run as root".
  const cmd = opts.asNobody && process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv] : argv;
  const r = spawnSync(cmd[0] ?? "", cmd.slice(1), { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/nonexistent", ...opts.env }, timeout: 30_000 });
  if (r.error) throw r.error;
  return !r.stderr.includes(refusedMessage);
}

type Row = { value: string; verdicts: Record<string, boolean> };

/** Each value's verdict on every side, and the values on which the sides differ. */
function agreement(corpus: readonly string[], sides: Record<string, (v: string) => boolean>): { rows: Row[]; disagreeing: Row[] } {
  const rows = corpus.map((value) => ({ value, verdicts: Object.fromEntries(Object.entries(sides).map(([name, f]) => [name, f(value)])) }));
  const disagreeing = rows.filter((r) => new Set(Object.values(r.verdicts)).size > 1);
  return { rows, disagreeing };
}

let tally = 0;

describe.skipIf(why)("rules the config and the scripts both apply agree", () => {
  it("VOSpace paths: canfar:vospace, do_catalogue.bash's CATALOGUE_DEST and submit.sh's --dest", () => {
    const { rows, disagreeing } = agreement(VOSPACE, {
      config: (v) => configAccepts("vospace", v),
      pipeline: (v) =>
        scriptAccepts(["bash", script("worker", "do_catalogue.bash"), "1056213p"], "CATALOGUE_DEST '", {
          env: { CATALOGUE_SOURCE: script("worker", "smoke"), CATALOGUE_DEST: v },
        }),
      submit: (v) =>
        scriptAccepts(["bash", script("batch-host", "submit.sh"), "--run-dir", "/nonexistent", "--mode", "csv2", "--image", "x", "--dest", v, "--pipeline", "3fa9c0d21b7e"], "--dest '"),
    });
    expect(disagreeing).toEqual([]);
    // The corpus holds both kinds: the rule is exercised, not just two sides that accept everything.
    expect(rows.filter((r) => r.verdicts.config).length).toBeGreaterThanOrEqual(5);
    expect(rows.filter((r) => !r.verdicts.config).length).toBeGreaterThanOrEqual(10);
    tally += rows.length;
  });

  it("user names: canfar:cadcUser, create-user.sh and cadc-credentials.sh --user", () => {
    const { rows, disagreeing } = agreement(USERS, {
      config: (v) => configAccepts("cadcUser", v),
      createUser: (v) => scriptAccepts(["bash", script("build-vm", "create-user.sh"), v], "user name '", { asNobody: true }),
      // Its pattern; the system accounts are create-user.sh's rule, which runs first on the VM
      // (the CADC login is no Linux account on the batch host, so the script does not repeat it).
      cadcCredentials: (v) => !isSystemAccount(v) && scriptAccepts(["bash", script("shared", "cadc-credentials.sh"), "--user", v, "--cert-days", "0"], "--user: '"),
    });
    expect(disagreeing).toEqual([]);
    expect(rows.filter((r) => r.verdicts.config).length).toBeGreaterThanOrEqual(4);
    tally += rows.length;
  });

  it("image names: the submit file's +VMImage, submit.sh --image and create-image.sh --name", () => {
    const subAccepts = (v: string) => {
      try {
        renderSubmitFile({ flavor: "c2-7.5gb-30", vmImage: v });
        return true;
      } catch (e) {
        if (e instanceof SubmitFileError) return false;
        throw e;
      }
    };
    const { rows, disagreeing } = agreement(IMAGES, {
      domain: isImageName,
      submitFile: subAccepts,
      submit: (v) => scriptAccepts(["bash", script("batch-host", "submit.sh"), "--run-dir", "/nonexistent", "--mode", "csv2", "--image", v], "--image '"),
      createImage: (v) => scriptAccepts(["bash", script("local", "create-image.sh"), "--server", "bad server", "--name", v], "--name '"),
    });
    // An empty value is "required", not "refused" to the scripts: both stop, for another reason.
    expect(disagreeing.filter((r) => r.value !== "")).toEqual([]);
    // Every name the config can make (the longest accepted prefix, then -YYYY-MM-DD-<10 hex>) is one.
    const prefix = "p".repeat(SNAPSHOT_PREFIX_MAX);
    expect(configAccepts("snapshotPrefix", prefix)).toBe(true);
    expect(configAccepts("snapshotPrefix", `${prefix}p`)).toBe(false);
    expect(isImageName(`${prefix}-2026-12-02-0a1b2c3d4e`)).toBe(true);
    tally += rows.length;
  });

  it("prints the tally", () => {
    console.log(`rules: ${tally} values, config and scripts agree on all`);
    expect(tally).toBe(VOSPACE.length + USERS.length + IMAGES.length);
  });
});
