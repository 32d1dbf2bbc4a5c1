import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { toComponentDot, toDetailDot, transitiveReduction, type Edge } from "../../tools/render/graph";
import { renderFiles } from "../../tools/render/write";
import { PROVISIONING_TYPE } from "../../build/provisioning";
import { renderDev } from "../preview/stack-change";

/** The drawn edges of a dot source, as "tail -> head" with URNs' last parts. */
function drawnEdges(dot: string): string[] {
  return [...dot.matchAll(/^\s*"([^"]+)" -> "([^"]+)"(.*)$/gm)].map((m) => `${short(m[1] ?? "")} -> ${short(m[2] ?? "")}${m[3] ?? ""}`);
}

function short(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

// A two-component stack in miniature: "net" holds a port and an address, "vm" a server and
// three steps; every step waits for the address and the server, as the SSH steps do.
const URN = "urn:pulumi:test::p::";
function resource(type: string, name: string, parent?: string, dependencies: string[] = []): PlannedResource {
  return {
    urn: `${URN}${type}::${name}`,
    type,
    name,
    ...(parent ? { parent: `${URN}${parent}` } : {}),
    dependencies: dependencies.map((d) => `${URN}${d}`),
    inputs: {},
  };
}
const NET = "canfar:index:Net::net";
const VM = "canfar:index:Vm::vm";
const STEPS = "canfar:index:Steps::steps";
const mini: PlannedResource[] = [
  resource("pulumi:providers:openstack", "default"),
  resource("canfar:index:Net", "net"),
  resource("os:port:Port", "net-port", NET),
  resource("os:ip:Ip", "net-ip", NET, ["os:port:Port::net-port"]),
  resource("canfar:index:Vm", "vm"),
  resource("os:server:Server", "vm-server", VM, ["os:port:Port::net-port"]),
  resource("canfar:index:Steps", "steps"),
  resource("command:remote:Command", "steps-a", STEPS, ["os:ip:Ip::net-ip", "os:server:Server::vm-server"]),
  resource("command:remote:Command", "steps-b", STEPS, ["os:ip:Ip::net-ip", "os:server:Server::vm-server"]),
  resource("command:local:Command", "steps-c", STEPS, ["os:ip:Ip::net-ip", "os:server:Server::vm-server", "command:remote:Command::steps-a"]),
];

describe("transitiveReduction", () => {
  it("drops A→C when A→B→C exists, and only such edges", () => {
    const edges: Edge[] = [
      ["A", "B"],
      ["B", "C"],
      ["A", "C"],
      ["C", "D"],
      ["A", "D"],
      ["B", "D"],
      ["E", "D"],
    ];
    expect(transitiveReduction(edges)).toEqual([
      ["A", "B"],
      ["B", "C"],
      ["C", "D"],
      ["E", "D"],
    ]);
  });

  it("counts a repeated edge once and drops self-loops", () => {
    expect(transitiveReduction([["A", "B"], ["A", "B"], ["B", "B"]])).toEqual([["A", "B"]]);
  });

  it("keeps what reaches what on a cycle instead of dropping both sides of it", () => {
    const kept = transitiveReduction([["A", "B"], ["B", "A"], ["A", "C"], ["B", "C"]]);
    expect(kept).toEqual([["A", "B"], ["B", "A"], ["B", "C"]]);
  });
});

describe("the component view", () => {
  const dot = toComponentDot(mini);

  it("draws one cluster per component with its steps inside, labelled without the component's prefix", () => {
    expect(dot.match(/subgraph "cluster_/g)).toHaveLength(3);
    expect(dot).toContain(`label=<port<br/>`);
    expect(dot).toContain(`label=<a<br/><font point-size="8" color="#666666">remote:Command</font>>`);
    expect(dot).toContain(`label=<c<br/><font point-size="8" color="#666666">local:Command</font>>`);
    expect(dot).not.toContain("providers");
  });

  it("joins the components by their reduced edges and each component's steps as a chain", () => {
    expect(drawnEdges(dot)).toEqual([
      // net: the address waits for the port
      "net-ip -> net-port [dir=back];",
      // steps: a, b and c in order; b may run with a, and c with b (dashed: c waits for a only)
      "steps-b -> steps-a [dir=none, style=dashed, penwidth=1.2, color=\"#888888\"];",
      "steps-c -> steps-b [dir=none, style=dashed, penwidth=1.2, color=\"#888888\"];",
      // net → vm → steps; net → steps is implied, so not drawn
      `net-port -> vm-server [ltail="cluster_${URN}${NET}", lhead="cluster_${URN}${VM}", penwidth=1.6, color="#2b4a6f"];`,
      `vm-server -> steps-a [ltail="cluster_${URN}${VM}", lhead="cluster_${URN}${STEPS}", penwidth=1.6, color="#2b4a6f"];`,
    ]);
  });

  it("has no more edges than components plus steps, where the detail has every dependency", () => {
    expect(drawnEdges(dot).length).toBeLessThanOrEqual(3 + 6);
    expect(drawnEdges(toDetailDot(mini))).toHaveLength(mini.reduce((n, r) => n + r.dependencies.length, 0));
  });

  it("draws every edge between nodes it declares, with components nested or without steps", () => {
    const nested = [
      ...mini,
      resource("canfar:index:Outer", "outer"),
      resource("canfar:index:Inner", "inner", "canfar:index:Outer::outer"),
      resource("command:local:Command", "inner-x", "canfar:index:Inner::inner", ["command:local:Command::steps-c"]),
      resource("canfar:index:Empty", "empty", undefined, ["canfar:index:Outer::outer"]),
    ];
    const dot = toComponentDot(nested);
    const declared = new Set([...dot.matchAll(/^\s*"([^"]+)" \[/gm)].map((m) => m[1]));
    const ends = [...dot.matchAll(/^\s*"([^"]+)" -> "([^"]+)"/gm)].flatMap((m) => [m[1], m[2]]);
    expect(ends.filter((e) => !declared.has(e))).toEqual([]);
    expect(drawnEdges(dot).filter((e) => e.includes("lhead"))).toHaveLength(4);
  });

  it("draws a solid arrow inside a box when the later step waits for the earlier one", () => {
    const chained = toComponentDot(mini.map((r) => (r.name === "steps-b" ? { ...r, dependencies: [...r.dependencies, `${URN}command:remote:Command::steps-a`] } : r)));
    expect(drawnEdges(chained)).toContain("steps-b -> steps-a [dir=back];");
  });

  it("renders graph-detail only when asked", async () => {
    const evaluation = { resources: mini, outputs: {} };
    const plain = await renderFiles(evaluation);
    expect([...plain.keys()].filter((k) => k.startsWith("graph"))).toEqual(["graph.dot", "graph.svg"]);
    const detailed = await renderFiles(evaluation, { detail: true });
    expect([...detailed.keys()].filter((k) => k.startsWith("graph"))).toEqual(["graph.dot", "graph.svg", "graph-detail.dot", "graph-detail.svg"]);
    expect(detailed.get("graph-detail.dot")).toBe(toDetailDot(mini));
  });
});

describe("staging steps", () => {
  // Real URNs this time: the type chain names the component holding each step.
  const child = (parentType: string, parent: string, type: string, name: string, dependencies: string[] = []): PlannedResource => ({
    urn: `${URN}${parentType}$${type}::${name}`,
    type,
    name,
    parent: `${URN}${parentType}::${parent}`,
    dependencies,
    inputs: {},
  });
  const COPY = "command:remote:CopyToRemote";
  const RUN = "command:remote:Command";
  const under = (parentType: string, name: string): PlannedResource[] => {
    const stage = child(parentType, name, RUN, `${name}-stage-u`);
    const copies = ["a", "b", "c"].map((f) => child(parentType, name, COPY, `${name}-copy-u-${f}`, [stage.urn]));
    const step = child(parentType, name, RUN, `${name}-step`, [stage.urn, ...copies.map((c) => c.urn)]);
    return [{ urn: `${URN}${parentType}::${name}`, type: parentType, name, dependencies: [], inputs: {} }, stage, ...copies, step];
  };

  it("folds a Provisioning's copies into the staging step they wait for, whatever the component is called", () => {
    const dot = toComponentDot(under(PROVISIONING_TYPE, "anything"));
    expect(dot).not.toContain("anything-copy-u-");
    expect(dot).toContain("label=<stage-u<br/><font point-size=\"8\" color=\"#666666\">Command + 3 CopyToRemote</font>>");
    expect(drawnEdges(dot)).toEqual(["anything-step -> anything-stage-u [dir=back];"]);
  });

  it("leaves alone the same names under another component type", () => {
    const dot = toComponentDot(under("canfar:index:Other", "anything"));
    for (const f of ["a", "b", "c"]) expect(dot).toContain(`anything-copy-u-${f}`);
    expect(drawnEdges(dot)).toHaveLength(4);
  });
});

describe("the dev stack's picture", () => {
  let resources: PlannedResource[];
  let dot: string;
  beforeAll(async () => {
    resources = await renderDev();
    dot = toComponentDot(resources);
  }, 120_000);

  it("draws one box per staging step, not one per copied file, and at most 40 edges (61 when each copy had its own)", () => {
    const copies = resources.filter((r) => r.type === "command:remote:CopyToRemote" && r.name.startsWith("provision-"));
    expect(copies.length).toBeGreaterThan(20);
    for (const c of copies) expect(dot).not.toContain(`"${c.urn}"`);
    const stages = [...dot.matchAll(/label=<stage-(\w+)<br\/><font[^>]*>remote:Command \+ (\d+) CopyToRemote</g)].map((m) => [m[1], Number(m[2])]);
    expect(stages).toEqual([
      ["ubuntu", copies.filter((c) => c.name.startsWith("provision-copy-ubuntu-")).length],
      ["astronomer", copies.filter((c) => c.name.startsWith("provision-copy-astronomer-")).length],
    ]);
    expect(drawnEdges(dot).length).toBeLessThanOrEqual(40);
  });

  it("has whatever waited for a copy wait for its staging step instead", () => {
    expect(drawnEdges(dot)).toContain("provision-wait-cloud-init -> provision-stage-ubuntu [dir=back];");
    expect(drawnEdges(dot)).toContain("provision-cadc-credentials -> provision-stage-astronomer [dir=back];");
  });
});
