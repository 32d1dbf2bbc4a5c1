import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import * as ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { provisioningPlan } from "../../build/provisioning-plan";
import { PIPELINE_FILES } from "../../domain/pipeline-identity";
import { evaluate, type Evaluation } from "../../offline/evaluate";
import type { PlannedResource } from "../../offline/capture";
import { ALL_SCRIPTS, inPlaceCommand, localPath, PROVISIONING_DIR, scriptText, userDataPath, type Host, type Route, type Script } from "../../provisioning/scripts";
import { VALID_RAW } from "../fixtures/stack-config";

// provisioning/scripts.ts names every file of provisioning/ with where it runs and how it gets
// there; these hold the registry to the files, the folders to the hosts, and the program to
// the registry, so a script can neither drift into a folder that misnames its host nor be
// addressed by a path spelled somewhere else.
const REPO = resolve(__dirname, "..", "..");
const CTX = { defaultUser: "ubuntu", cadcUser: "astronomer", scratchDevice: "/dev/vdb" };
const REGISTRY = "scripts.ts";

/** The host each single-host folder names; shared/ and lib/ have rules of their own below. */
const FOLDER_HOST: Record<string, Host> = { local: "local", "build-vm": "build-vm", "batch-host": "batch-host", "pool-node": "pool-node", worker: "worker" };
/** The host a route brings a file to, for the routes that say (a shared/ or lib/ file's). */
const ROUTE_HOST: Partial<Record<Route, Host>> = { "in-place": "local", copied: "build-vm", stdin: "batch-host" };

const folderOf = (s: Script) => s.file.split("/")[0] ?? "";
const isShell = (s: Script) => /\.(sh|bash)$/.test(s.name);
const sorted = <T>(xs: Iterable<T>) => [...new Set(xs)].sort();
const withRoute = (route: Route) => ALL_SCRIPTS.filter((s) => s.routes.includes(route));

function filesUnder(dir: string): string[] {
  return readdirSync(join(PROVISIONING_DIR, dir), { withFileTypes: true }).flatMap((e) => {
    const p = dir === "" ? e.name : `${dir}/${e.name}`;
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The scripts a script sources or runs from beside it (`source "…/x.sh"`, `bash "…/x.sh"`), comments left out. */
function sourcedNames(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  return sorted([...code.matchAll(/\b(?:source|bash)\s+"[^\n]*?\/([\w.-]+\.(?:sh|bash))"/g)].map((m) => m[1] ?? ""));
}

/** `provisioning/` or a script's file name; a backslash may stand before the `/` or `.` (in a regex). */
const FORBIDDEN = /provisioning\\?\/|[\w.-]+\\?\.(?:sh|bash)\b/g;

/**
 * What a TypeScript text spells in its literals (strings, templates, regexes) that only the
 * registry may. Comments are prose, and an import's module path (../provisioning/scripts) is
 * how the registry is reached, not a script's path.
 */
function spelled(text: string): string[] {
  const source = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const isModulePath = (node: ts.Node) => node.parent !== undefined && (ts.isImportDeclaration(node.parent) || ts.isExportDeclaration(node.parent)) && node.parent.moduleSpecifier === node;
  const visit = (node: ts.Node): void => {
    if (isModulePath(node)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isRegularExpressionLiteral(node) || ts.isTemplateLiteralToken(node)) {
      for (const m of node.getText(source).matchAll(FORBIDDEN)) found.push(m[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the registry of provisioning/", () => {
  it("names every file of provisioning/ (but itself and the READMEs) once, and only files that exist", () => {
    const onDisk = filesUnder("").filter((f) => f !== REGISTRY && !f.endsWith("README.md"));
    const registered = ALL_SCRIPTS.map((s) => s.file);
    expect(onDisk.length).toBeGreaterThan(20);
    expect(registered.length).toBe(new Set(registered).size);
    expect(sorted(registered)).toEqual(sorted(onDisk));
  });

  it("puts each file in the folder of its host: local/, build-vm/, batch-host/, pool-node/, worker/", () => {
    const misplaced = ALL_SCRIPTS.filter((s) => folderOf(s) in FOLDER_HOST && s.hosts.join() !== FOLDER_HOST[folderOf(s)]);
    expect(misplaced.map((s) => `${s.file}: ${s.hosts.join(", ")}`)).toEqual([]);
    const elsewhere = ALL_SCRIPTS.filter((s) => !(folderOf(s) in FOLDER_HOST)).map(folderOf);
    expect(sorted(elsewhere)).toEqual(["lib", "shared"]);
  });

  it("keeps in shared/ only what runs on several hosts, each reached by its own route", () => {
    const shared = ALL_SCRIPTS.filter((s) => folderOf(s) === "shared");
    expect(shared.length).toBeGreaterThan(0);
    for (const s of shared) {
      expect(s.hosts.length, s.file).toBeGreaterThan(1);
      expect(sorted(s.routes.map((r) => ROUTE_HOST[r] ?? `no host for ${r}`)), s.file).toEqual(sorted(s.hosts));
    }
  });

  it("runs lib/ where the scripts that source it run, and brings it to them the way they come", () => {
    const lib = ALL_SCRIPTS.filter((s) => folderOf(s) === "lib");
    expect(lib.length).toBeGreaterThan(0);
    for (const l of lib) {
      const users = ALL_SCRIPTS.filter((s) => s.uses.includes(l));
      expect(users.length, l.file).toBeGreaterThan(0);
      expect(sorted(l.hosts), l.file).toEqual(sorted(users.flatMap((u) => u.hosts)));
      const missing = users.flatMap((u) => u.routes.filter((r) => r in ROUTE_HOST && !l.routes.includes(r)).map((r) => `${u.file} ${r}`));
      expect(missing, l.file).toEqual([]);
    }
  });

  it("lists as each script's uses exactly what it sources or runs beside it, from its own folder or lib/", () => {
    const shell = ALL_SCRIPTS.filter(isShell);
    const registered = new Set(shell.map((s) => s.name));
    const wrong = shell.flatMap((s) => {
      const actual = sourcedNames(scriptText(s)).filter((n) => registered.has(n));
      const declared = sorted(s.uses.map((u) => u.name));
      return actual.join() === declared.join() ? [] : [`${s.file}: sources ${actual.join(", ") || "nothing"}, registered ${declared.join(", ") || "nothing"}`];
    });
    expect(wrong).toEqual([]);
    const faraway = ALL_SCRIPTS.flatMap((s) => s.uses.filter((u) => folderOf(u) !== folderOf(s) && folderOf(u) !== "lib").map((u) => `${s.file} -> ${u.file}`));
    expect(faraway).toEqual([]);
    // The reader itself: a sourced script is found, a commented one is not.
    expect(sourcedNames('# source "x/a.sh"\nsource "$(dirname "$0")/b.sh" || exec bash "${HERE}/c.bash" "$@"\n')).toEqual(["b.sh", "c.bash"]);
  });

  it("installs in the image exactly the files that make the pipeline's identity", () => {
    expect(sorted(withRoute("image").map((s) => s.name))).toEqual(sorted(PIPELINE_FILES));
    expect(withRoute("image").every((s) => folderOf(s) === "worker")).toBe(true);
  });
});

describe("the program takes every script from the registry", () => {
  let e: Evaluation;
  const commands = (type: string) => e.resources.filter((r) => r.type === type);
  const input = (r: PlannedResource, key: string): unknown => (r.inputs as Record<string, unknown>)[key];

  beforeAll(async () => {
    // A self-hosted pool that deletes its build VM and image: every route the program has.
    const raw: Record<string, string> = { ...VALID_RAW, batchSystem: "self-hosted", workerCount: "1", poolPassword: "pool-secret-Zx9vQ2mT7kLp4rW8yB3nC6dF", deleteBuildVmAfterSnapshot: "true", keepImageOnDestroy: "false" };
    delete raw.batchHostKey;
    const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`canfar:${k}`, v]));
    e = await evaluate("canfar-batch", "dev", { config, secretKeys: ["canfar:cadcPassword", "canfar:sshPrivateKey", "canfar:poolPassword"] }, { revealSecrets: true });
  });

  it("runs in place exactly the registry's local scripts (and what they source), by the registry's command", () => {
    const lines = commands("command:local:Command").flatMap((r) => ["create", "update", "delete"].map((k) => input(r, k)).filter((v): v is string => typeof v === "string"));
    const bashLines = lines.filter((l) => l.startsWith("bash "));
    expect(bashLines.length).toBeGreaterThan(3);
    const runs = (s: Script, l: string) => l === inPlaceCommand(s) || l.startsWith(`${inPlaceCommand(s)} `);
    const run = withRoute("in-place").filter((s) => bashLines.some((l) => runs(s, l)));
    expect(bashLines.filter((l) => !run.some((s) => runs(s, l)))).toEqual([]);
    const reached = new Set<Script>();
    const reach = (s: Script): void => {
      if (!reached.has(s)) (reached.add(s), s.uses.forEach(reach));
    };
    run.forEach(reach);
    expect(sorted([...reached].map((s) => s.file))).toEqual(sorted(withRoute("in-place").map((s) => s.file)));
  });

  it("copies to the build VM exactly the files the registry says are copied", () => {
    const copied = commands("command:remote:CopyToRemote").map((r) => (input(r, "source") as { path?: string }).path ?? "");
    expect(copied.length).toBeGreaterThan(10);
    expect(sorted(copied.map((p) => relative(PROVISIONING_DIR, p)))).toEqual(sorted(withRoute("copied").map((s) => s.file)));
  });

  it("delivers on stdin exactly the registry's stdin files, each as it is", () => {
    const delivered = commands("command:remote:Command").flatMap((r) => {
      const create = String(input(r, "create") ?? "");
      const name = /^umask 077 && .* '[^']*\/([^'/]+)'$/.exec(create)?.[1];
      return name === undefined ? [] : [{ name, stdin: input(r, "stdin") }];
    });
    const stdin = withRoute("stdin");
    const registered = delivered.filter((d) => stdin.some((s) => s.name === d.name));
    expect(sorted(registered.map((d) => d.name))).toEqual(sorted(stdin.map((s) => s.name)));
    for (const s of stdin) expect(registered.find((d) => d.name === s.name)?.stdin === scriptText(s), s.file).toBe(true);
    // The rest are made by the program (the submit file, the exposure list), no file of provisioning/.
    expect(sorted(delivered.filter((d) => !registered.includes(d)).map((d) => d.name))).toEqual(["do_catalogue.sub", "exposures.txt"]);
  });

  it("writes by user-data exactly the registry's user-data scripts, on the hosts they name", () => {
    const written = commands("openstack:compute/instance:Instance").flatMap((r) => {
      const doc = parse(String(input(r, "userData"))) as { write_files?: Array<{ path: string; content: string }> };
      const host: Host = r.name.startsWith("pool-") ? "pool-node" : "build-vm";
      return (doc.write_files ?? []).map((f) => ({ host, ...f }));
    });
    expect(sorted(written.map((w) => w.host))).toEqual(["build-vm", "pool-node"]);
    for (const s of withRoute("user-data")) {
      const mine = written.filter((w) => w.path === userDataPath(s));
      expect(mine.length, s.file).toBeGreaterThan(0);
      expect(sorted(mine.map((w) => w.host)), s.file).toEqual(sorted(s.hosts));
      expect(mine.every((w) => w.content === scriptText(s)), s.file).toBe(true);
    }
    const scripts = written.filter((w) => /\.(sh|bash)$/.test(w.path));
    expect(sorted(scripts.map((w) => w.path))).toEqual(sorted(withRoute("user-data").map(userDataPath)));
  });

  it("sends with each job exactly the registry's job files: the submit file's executable and transfer_input_files", () => {
    const sub = commands("command:remote:Command").find((r) => String(input(r, "create") ?? "").endsWith("/do_catalogue.sub'"));
    const text = String(input(sub as PlannedResource, "stdin"));
    const executable = /^executable = (.+)$/m.exec(text)?.[1] ?? "";
    const transferred = (/^transfer_input_files = (.+)$/m.exec(text)?.[1] ?? "").split(", ");
    expect(sorted([executable, ...transferred])).toEqual(sorted(withRoute("jobs").map((s) => s.name)));
  });
});

describe("where scripts run", () => {
  const plan = provisioningPlan(CTX);

  it("copies to the build VM come only from build-vm/, shared/, worker/ and lib/ (what they source)", () => {
    const folders = sorted(plan.flatMap((a) => (a.kind === "copy" ? [relative(PROVISIONING_DIR, a.local).split("/")[0]] : [])));
    expect(folders).toEqual(["build-vm", "lib", "shared", "worker"]);
  });

  it("keeps the VM's staged names as they were before the folders (no new image from a move)", () => {
    const remotes = plan.flatMap((a) => (a.kind === "copy" ? [a.remote] : []));
    expect(remotes).toContain("/home/ubuntu/.canfar-batch/provisioning/create-user.sh");
    expect(remotes).toContain("/home/astronomer/.canfar-batch/provisioning/cadc-credentials.sh");
    expect(remotes).toContain("/home/ubuntu/.canfar-batch/provisioning/pipeline/do_catalogue.bash");
    expect(remotes).toContain("/home/astronomer/.canfar-batch/provisioning/pipeline/smoke/1056213p.fits.fz");
    expect(remotes.filter((r) => /\/(build-vm|shared|worker|local|batch-host|lib)\//.test(r))).toEqual([]);
  });

  it("stages every copy from the registry's path of a registered file", () => {
    const copies = plan.flatMap((a) => (a.kind === "copy" ? [a.local] : []));
    expect(copies.filter((p) => !ALL_SCRIPTS.some((s) => localPath(s) === p))).toEqual([]);
  });

  it("no TypeScript of index.ts, build/, image/, batch/, pool/ or offline/ spells provisioning/ or a script's file name", () => {
    const files = ["index.ts", ...["build", "image", "batch", "pool", "offline"].flatMap(tsFiles)];
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) => spelled(readFileSync(join(REPO, f), "utf8")).map((s) => `${f}: ${s}`));
    expect(found).toEqual([]);
    // The reader itself: a literal path or name is found, in a string, a template or a regex;
    // the same words in a comment, or the registry's module path, are not.
    const sample = [
      'import { SCRIPTS } from "../provisioning/scripts";',
      "// bash provisioning/local/x.sh",
      'const a = "bash provisioning/local/x.sh";',
      "const b = `${dir}/submit.sh`;",
      "const c = /quiesce\\.sh|do_catalogue.bash/;",
    ].join("\n");
    expect(spelled(sample)).toEqual(["provisioning/", "x.sh", "submit.sh", "quiesce\\.sh", "do_catalogue.bash"]);
  });
});
