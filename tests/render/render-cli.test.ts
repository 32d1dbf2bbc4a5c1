import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

/**
 * The render as `npm run render` starts it: from the checkout, with INIT_CWD saying where the
 * user was (the checkout itself unless said).
 */
function render(args: string[], opts: { checkout?: string; initCwd?: string; env?: Record<string, string> } = {}) {
  const checkout = opts.checkout ?? ROOT;
  const env = { ...process.env, INIT_CWD: opts.initCwd ?? checkout, ...opts.env };
  return spawnSync(TSX, [join(checkout, "tools", "render.ts"), ...args], { encoding: "utf8", cwd: checkout, env, timeout: 120_000 });
}

const work = mkdtempSync(join(tmpdir(), "render-cli-"));

/** Every file under `dir` (`.git` too) with its content: what "nothing touched" compares. */
function snapshotOf(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => [join(d.parentPath, d.name), readFileSync(join(d.parentPath, d.name), "latin1")]),
  );
}

/** No file under `dir` holds a secret's offline stand-in or a stack file's ciphertext. */
function expectNoSecret(dir: string): void {
  const all = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name), "utf8"))
    .join("\n");
  expect(all).not.toContain("offline-render-placeholder");
  expect(all).not.toContain("AAABAPLACEHOLDER");
}
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm run render", () => {
  const out = join(work, "out");
  let result: ReturnType<typeof render>;
  beforeAll(() => {
    // --detail: one render shows both pictures (a render takes seconds on a shared machine).
    // `--out out` from `work`: a relative path is where the user ran npm, not the checkout.
    result = render(["--stack", "dev", "--out", "out", "--detail"], { initCwd: work });
  });

  it("renders the dev stack into --out as read from where npm ran, and says where (absolute)", () => {
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(`render: 70 resources, 45 files written to ${out}\n`);
    expect(existsSync(join(out, "plan.json"))).toBe(true);
    // The example's own values: a warning, not a failure (config/placeholders.ts).
    expect(result.stderr).toContain("values are still the example stack's placeholders");
    expect(readFileSync(join(out, ".canfar-batch-render"), "utf8")).toMatch(/^Written by `npm run render`/);
  });

  it("writes plan.json with type, name, parent, dependencies and inputs of every resource", () => {
    const plan = JSON.parse(readFileSync(join(out, "plan.json"), "utf8")) as {
      resources: Array<{ urn: string; type: string; name: string; parent?: string; dependencies: string[]; inputs: Record<string, unknown> }>;
    };
    const types = plan.resources.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["canfar:index:KeyPair", "canfar:index:AccessNetwork", "canfar:index:BuildVm", "openstack:compute/instance:Instance"]));
    const assoc = plan.resources.find((r) => r.type === "openstack:networking/floatingIpAssociate:FloatingIpAssociate");
    expect(assoc?.parent).toMatch(/canfar:index:AccessNetwork::access$/);
    expect(assoc?.dependencies.map((d) => d.split("::").pop()).sort()).toEqual(["access-fip", "access-port"]);
  });

  it("writes the instance's user-data under cloud-init/, its host key as [secret]", () => {
    const plan = JSON.parse(readFileSync(join(out, "plan.json"), "utf8")) as {
      resources: Array<{ type: string; inputs: { userData?: string }; redactedInputs?: { userData?: string } }>;
    };
    const vm = plan.resources.find((r) => r.type === "openstack:compute/instance:Instance");
    // A secret (it holds the host key), so the file is the user-data with the key as [secret].
    expect(vm?.inputs.userData).toMatch(/^\[secret [0-9a-f]{12}\]$/);
    const written = readFileSync(join(out, "cloud-init", "build-server.yaml"), "utf8");
    expect(written).toBe(vm?.redactedInputs?.userData);
    expect(written).toContain("ssh_keys:\n  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    [secret]\n");
  });

  it("draws the graph with Graphviz (WebAssembly), keeping the dot source", () => {
    expect(readFileSync(join(out, "graph.dot"), "utf8")).toMatch(/^digraph resources \{/);
    const svg = readFileSync(join(out, "graph.svg"), "utf8");
    expect(svg).toContain("<svg");
    expect(svg).toContain("build&#45;server");
  });

  describe("the pictures", () => {
    type Planned = { urn: string; type: string; parent?: string; dependencies: string[] };
    const plan = () => (JSON.parse(readFileSync(join(out, "plan.json"), "utf8")) as { resources: Planned[] }).resources;
    const dotEdges = (file: string) => [...readFileSync(join(out, file), "utf8").matchAll(/^\s*"([^"]+)" -> "([^"]+)"(.*)$/gm)];
    const svgEdges = (file: string) => readFileSync(join(out, file), "utf8").match(/class="edge"/g)?.length ?? 0;

    it("graph.svg draws no more edges than components plus steps", () => {
      const resources = plan();
      const components = resources.filter((r) => r.type.startsWith("canfar:"));
      const steps = resources.filter((r) => !r.type.startsWith("canfar:") && components.some((c) => c.urn === r.parent));
      expect([components.length, steps.length]).toEqual([7, 62]);
      expect(dotEdges("graph.dot").length).toBe(svgEdges("graph.svg"));
      expect(svgEdges("graph.svg")).toBeLessThanOrEqual(components.length + steps.length);
    });

    it("joins the components in the tutorial's order, each arrow implied by no other", () => {
      const name = (cluster: string | undefined) => cluster?.split("::").pop();
      const between = dotEdges("graph.dot").flatMap((m) => {
        const ends = /ltail="([^"]+)", lhead="([^"]+)"/.exec(m[3] ?? "");
        return ends ? [`${name(ends[1])} -> ${name(ends[2])}`] : [];
      });
      expect(between).toEqual([
        "key -> build",
        "access -> build",
        "build-host-key -> build",
        "build -> provision",
        "provision -> worker-image",
        "worker-image -> batch",
      ]);
      // Left to right: each box starts right of the one it waits for.
      const svg = readFileSync(join(out, "graph.svg"), "utf8");
      const left = (component: string) => {
        // Graphviz writes '-' in titles as &#45;; a box's outline is its cluster's first path.
        const box = new RegExp(`<title>cluster_[^<]*::${component.replace(/-/g, "&#45;")}</title>\\s*<path[^>]* d="([^"]+)"`).exec(svg);
        expect(box, component).not.toBeNull();
        return Math.min(...[...(box?.[1] ?? "").matchAll(/([-\d.]+),/g)].map((m) => Number(m[1])));
      };
      const order = ["build", "provision", "worker-image", "batch"].map(left);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(Math.max(left("key"), left("access"), left("build-host-key"))).toBeLessThan(left("build"));
    });

    it("graph-detail (--detail) has every dependency edge", () => {
      const resources = plan();
      const known = new Set(resources.map((r) => r.urn));
      const dependencies = resources.flatMap((r) => r.dependencies.filter((d) => known.has(d)).map((d) => `${d} -> ${r.urn}`));
      expect(dotEdges("graph-detail.dot").map((m) => `${m[1]} -> ${m[2]}`).sort()).toEqual(dependencies.sort());
      expect(svgEdges("graph-detail.svg")).toBe(dependencies.length);
      expect(svgEdges("graph-detail.svg")).toBeGreaterThan(svgEdges("graph.svg"));
    });
  });

  it("never writes a secret: secure values appear as [secret]", () => {
    expectNoSecret(out);
  });
});

describe("npm run render --stack self-hosted", () => {
  const out = join(work, "self-hosted");
  let result: ReturnType<typeof render>;
  beforeAll(() => {
    result = render(["--stack", "self-hosted", "--out", out]);
  });
  const roles = ["build-server.yaml", "pool-submit-server.yaml", "pool-workers-0-server.yaml", "pool-workers-1-server.yaml"];

  it("writes the user-data of the three roles (build VM, submit node, each worker) under cloud-init/", () => {
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(join(out, "cloud-init")).sort()).toEqual(roles);
    const submit = readFileSync(join(out, "cloud-init", "pool-submit-server.yaml"), "utf8");
    // The submit node's own pinned host key, its private half as [secret].
    expect(submit).toContain("    -----BEGIN OPENSSH PRIVATE KEY-----\n    [secret]\n");
  });

  it("shows the pool password as [secret] in every member's user-data, each still a YAML document", () => {
    for (const file of roles.slice(1)) {
      const text = readFileSync(join(out, "cloud-init", file), "utf8");
      expect(text, file).toContain("pool-password-[secret]");
      expect(parse(text), file).toBeTypeOf("object");
    }
  });

  it("never writes a secret: secure values appear as [secret]", () => {
    expectNoSecret(out);
  });
});

describe("--out: only a new or empty directory, or an earlier render, is replaced", () => {
  it("replaces an earlier render whole (a stray file in it goes too)", () => {
    const earlier = join(work, "out");
    writeFileSync(join(earlier, "stray.txt"), "left by hand");
    const again = render(["--stack", "dev", "--out", earlier]);
    expect(again.status, again.stderr).toBe(0);
    expect(existsSync(join(earlier, "stray.txt"))).toBe(false);
    expect(existsSync(join(earlier, "plan.json"))).toBe(true);
  });

  it("`render --out .` in a checkout: exit 2, the checkout and its .git untouched", () => {
    const copy = join(work, "checkout");
    const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const f of files) cpSync(join(ROOT, f), join(copy, f), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    spawnSync("git", ["init", "-q"], { cwd: copy });
    const before = snapshotOf(copy);
    const r = render(["--stack", "dev", "--out", "."], { checkout: copy });
    process.stdout.write(`\n--- npm run render -- --stack dev --out . (in a checkout)\nexit ${r.status}\n${r.stderr}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`render: --out: '${copy}' holds this checkout (${copy}); give a directory of its own, such as ./out (nothing written)\n`);
    expect(snapshotOf(copy)).toEqual(before);
    expect(readdirSync(work).filter((f) => f.startsWith("checkout."))).toEqual([]);
  });

  it("refuses a directory with one's own file, a git work tree elsewhere, a parent of where npm ran, and /", () => {
    const mine = join(work, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "mine");
    const repo = join(work, "repo");
    mkdirSync(join(repo, ".git"), { recursive: true });
    const deep = join(work, "a", "b");
    mkdirSync(deep, { recursive: true });
    const cases: Array<[string, string, RegExp]> = [
      [mine, work, /is not empty and holds no earlier render/],
      [repo, work, /is a git work tree/],
      ["..", deep, /is the directory you are working in, or one above it/],
      ["/", work, /is the file system's root/],
    ];
    const before = snapshotOf(work);
    for (const [out, initCwd, message] of cases) {
      const r = render(["--stack", "dev", "--out", out], { initCwd });
      expect(r.status, out).toBe(2);
      expect(r.stderr, out).toMatch(message);
      // Refused before the evaluation (which would print "evaluating").
      expect(r.stderr, out).not.toContain("evaluating");
    }
    expect(snapshotOf(work)).toEqual(before);
  });
});

describe("render with a bad stack config", () => {
  it("exits 2, names the key, and writes nothing (an existing --out is left as it was)", () => {
    const stack = parse(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    stack.config["canfar:flavor"] = "p8-12gb";
    stack.config["canfar:sshIngressCidrs"] = ["0.0.0.0/0"];
    const config = join(work, "bad.yaml");
    writeFileSync(config, stringify(stack));
    const out = join(work, "kept");
    mkdirSync(out);
    // An earlier render, which a successful render would replace.
    writeFileSync(join(out, ".canfar-batch-render"), "");
    writeFileSync(join(out, "plan.json"), "old");
    // The stack as PULUMI_STACK names it in CI: the last part is the stack.
    const result = render(["--stack", "my-org/canfar-batch/dev", "--config", config, "--out", out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`render: evaluating canfar-batch/dev from ${config}\n`);
    expect(result.stderr).toContain("canfar:flavor: 'p8-12gb' has no ephemeral disk");
    expect(result.stderr).toContain("canfar:sshIngressCidrs[0]: '0.0.0.0/0' opens SSH to the whole Internet");
    expect(readdirSync(out).sort()).toEqual([".canfar-batch-render", "plan.json"]);
    expect(readFileSync(join(out, "plan.json"), "utf8")).toBe("old");
  });

  it("a tab-indented stack file: exit 2, FILE:LINE:COLUMN and what is wrong, no trace, --out untouched", () => {
    const config = join(work, "tab.yaml");
    writeFileSync(config, readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8").replace("  canfar:network:", "\tcanfar:network:"));
    const line = readFileSync(config, "utf8").split("\n").findIndex((l) => l.startsWith("\tcanfar:network:")) + 1;
    const out = join(work, "kept-tab");
    mkdirSync(out);
    writeFileSync(join(out, ".canfar-batch-render"), "");
    const result = render(["--stack", "dev", "--config", config, "--out", out]);
    process.stdout.write(`\n--- npm run render -- --stack dev --config tab.yaml (a tab-indented stack file)\nexit ${result.status}\n${result.stderr}`);
    expect(result.status).toBe(2);
    const [head, problem, more, ...rest] = result.stderr.split("\n");
    expect([head, problem]).toEqual([`render: ${config} is not a valid stack file:`, `${config}:${line}:1: a tab indents this line; YAML indents with spaces only`]);
    expect(more).toMatch(/^\(and \d+ more after it, which may all follow from it: fix this one first\)$/);
    expect(rest).toEqual(["(nothing written)", ""]);
    expect(readdirSync(out)).toEqual([".canfar-batch-render"]);
  });

  it("a public key wrapped over two lines: exit 2 naming canfar:sshPublicKey, --out untouched", () => {
    const dev = readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8");
    const line = /^  canfar:sshPublicKey: (ssh-ed25519) (\S+) (\S+)$/m.exec(dev);
    expect(line).not.toBeNull();
    const [whole, type, b64, comment] = line as unknown as [string, string, string, string];
    // As a mail or a narrow terminal breaks it: the base64 goes on, indented, on the next line.
    const config = join(work, "wrapped.yaml");
    writeFileSync(config, dev.replace(whole, `  canfar:sshPublicKey: ${type} ${b64.slice(0, 40)}\n    ${b64.slice(40)} ${comment}`));
    const out = join(work, "kept-wrapped");
    mkdirSync(out);
    writeFileSync(join(out, ".canfar-batch-render"), "");
    const result = render(["--stack", "dev", "--config", config, "--out", out]);
    process.stdout.write(`\n--- npm run render -- --stack dev --config wrapped.yaml (a public key wrapped over two lines)\nexit ${result.status}\n${result.stderr}`);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "\n  - canfar:sshPublicKey: has a space inside its base64 (was it wrapped over two lines?); expected the whole key on one line, as `cat ~/.ssh/id_ed25519.pub` prints it\n",
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(readdirSync(out)).toEqual([".canfar-batch-render"]);
  });

  it("exits 2 with usage for a missing --out, and --help explains the outputs", () => {
    const missingOut = render(["--stack", "dev"]);
    expect(missingOut.status).toBe(2);
    expect(missingOut.stderr).toContain("--out is required");
    const help = render(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("plan.json");
    expect(help.stdout).toContain("cloud-init/<vm>.yaml");
    expect(help.stdout).toContain("--detail          also draw the full resource graph");
  });

  it("exits 2 for a stack without a config file, naming the stacks there are", () => {
    const result = render(["--stack", "nosuchstack", "--out", join(work, "none")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `render: --stack 'nosuchstack': '${join(ROOT, "Pulumi.nosuchstack.yaml")}' does not exist; the stacks here are dev, self-hosted (or give a stack file with --config)\n`,
    );
    expect(existsSync(join(work, "none"))).toBe(false);
  });

  it("exits 2 for another project's ORG/PROJECT/STACK", () => {
    const result = render(["--stack", "my-org/other-project/dev", "--out", join(work, "none")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("render: --stack 'my-org/other-project/dev' is a stack of project 'other-project'; this checkout is project 'canfar-batch' (Pulumi.yaml)\n");
  });

  it("`npm run render --stack dev --out out` (the `--` forgotten): says npm took the options", () => {
    // What npm hands the tool then: its settings npm_config_stack and npm_config_out, the values as arguments.
    const result = render(["dev", "none"], { initCwd: work, env: { npm_config_stack: "true", npm_config_out: "true" } });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "render: npm took --stack and --out for its own settings, so this command never saw them: put `--` between `npm run render` and the options, as in `npm run render -- --stack dev ...`\n",
    );
    expect(existsSync(join(work, "none"))).toBe(false);
  });
});
