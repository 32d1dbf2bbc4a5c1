import type { PlannedResource } from "../../offline/capture";
import { foldStagingCopies } from "./staging-steps";

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Text for a Graphviz HTML-like label: resource names may hold any of these. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const COMPONENT = /^canfar:/;
// Providers (and the stack) are the engine's plumbing: nothing the program declares waits
// for them in the recorded dependencies, and a box for them tells a reader nothing.
const PLUMBING = /^pulumi:/;

/** A directed edge, tail → head: the head waits for the tail. */
export type Edge = readonly [tail: string, head: string];

/**
 * Drops every edge whose head is still reachable from its tail without it (A→C goes when
 * A→B→C exists). Edges are removed one at a time against what is left, so reachability is
 * kept even on a graph with a cycle (a naive "reachable through another successor" test
 * would drop both edges around the cycle); on an acyclic graph the result is the unique
 * transitive reduction whatever the order. Duplicate edges count once.
 */
export function transitiveReduction(edges: readonly Edge[]): Edge[] {
  const kept = new Map<string, Set<string>>();
  const unique: Edge[] = [];
  for (const [tail, head] of edges) {
    const out = kept.get(tail) ?? new Set<string>();
    if (tail === head || out.has(head)) continue;
    kept.set(tail, out.add(head));
    unique.push([tail, head]);
  }
  const reachesWithout = (tail: string, head: string): boolean => {
    const seen = new Set<string>([tail]);
    const stack = [...(kept.get(tail) ?? [])].filter((n) => n !== head);
    while (stack.length > 0) {
      const node = stack.pop() as string;
      if (node === head) return true;
      if (seen.has(node)) continue;
      seen.add(node);
      stack.push(...(kept.get(node) ?? []));
    }
    return false;
  };
  return unique.filter(([tail, head]) => {
    if (!reachesWithout(tail, head)) return true;
    kept.get(tail)?.delete(head);
    return false;
  });
}

/**
 * Every resource's position in one order that puts each after what it depends on, ties
 * broken by declaration order (the program declares in the tutorial's order), so the
 * picture reads in the order `pulumi up` can create things. A cycle, which the engine
 * would refuse anyway, leaves its members in declaration order at the end.
 */
function creationOrder(resources: readonly PlannedResource[]): Map<string, number> {
  const known = new Set(resources.map((r) => r.urn));
  const order = new Map<string, number>();
  const waiting = [...resources];
  while (waiting.length > 0) {
    const ready = waiting.findIndex((r) => r.dependencies.every((d) => !known.has(d) || order.has(d)));
    const [next] = waiting.splice(ready === -1 ? 0 : ready, 1);
    if (next) order.set(next.urn, order.size);
  }
  return order;
}

/** A resource's type as a reader knows it: the class name, with its module only when two types share one. */
function shortTypes(resources: readonly PlannedResource[]): Map<string, string> {
  const className = (type: string) => type.split(":").pop() ?? type;
  const types = [...new Set(resources.map((r) => r.type))];
  const shared = new Set(types.map(className).filter((c, i, all) => all.indexOf(c) !== i));
  return new Map(
    types.map((type) => {
      const parts = type.split(":");
      // `command:local:Command` and `command:remote:Command`: where it runs is the point.
      const module = (parts[1] ?? "").split("/").pop() ?? "";
      return [type, shared.has(className(type)) && module ? `${module}:${className(type)}` : className(type)];
    }),
  );
}

/**
 * The default picture: one box (a Graphviz cluster) per component, laid out left to right
 * in creation order, its steps listed top to bottom in the order they run. Arrows between
 * boxes say which component waits for which, transitively reduced: the SSH steps that
 * each wait for the floating IP association become one arrow from the network to
 * provisioning (and that one goes too, since provisioning already waits for the VM, which
 * waits for the network). Inside a box, consecutive steps are joined: solid when the later
 * one waits for the earlier (directly or not), dashed when they may run at the same time.
 * So the picture has at most one edge per step plus one per component pair that matters.
 * The provisioning plan's copies are folded into their staging step (staging-steps.ts): one
 * box per staging step, labelled with how many files it stands for, not one per file.
 */
export function toComponentDot(resources: readonly PlannedResource[]): string {
  const drawn = resources.filter((r) => !PLUMBING.test(r.type));
  const { resources: shown, copies } = foldStagingCopies(drawn);
  const byUrn = new Map(shown.map((r) => [r.urn, r]));
  const isComponent = (r: PlannedResource) => COMPONENT.test(r.type);
  // A component waits for nothing itself (its steps do): it takes the place of its first
  // step, so the boxes, and the arrows between them, come in the order their work starts.
  const order = creationOrder(shown);
  for (const r of shown) {
    if (isComponent(r)) continue;
    const at = order.get(r.urn) ?? 0;
    for (let p = r.parent ? byUrn.get(r.parent) : undefined, hops = 0; p && hops < shown.length; p = p.parent ? byUrn.get(p.parent) : undefined, hops++) {
      if (isComponent(p) && at < (order.get(p.urn) ?? Infinity)) order.set(p.urn, at - 0.5);
    }
  }
  const position = (urn: string) => order.get(urn) ?? 0;
  const byOrder = (a: PlannedResource, b: PlannedResource) => position(a.urn) - position(b.urn);
  const types = shortTypes(drawn);

  // A resource's unit is the component that holds it (or the resource itself, for a
  // component or a resource outside any): the edges of the picture are between units.
  const parentComponent = (r: PlannedResource): PlannedResource | undefined => {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    return parent && isComponent(parent) ? parent : undefined;
  };
  const unitOf = (r: PlannedResource): string => (isComponent(r) ? r.urn : (parentComponent(r)?.urn ?? r.urn));
  const ancestors = (urn: string): Set<string> => {
    const out = new Set<string>();
    for (let r = byUrn.get(urn); r?.parent && byUrn.has(r.parent) && !out.has(r.parent); r = byUrn.get(r.parent)) out.add(r.parent);
    return out;
  };

  const children = new Map<string, PlannedResource[]>();
  for (const r of [...shown].sort(byOrder)) {
    const key = parentComponent(r)?.urn ?? "";
    children.set(key, [...(children.get(key) ?? []), r]);
  }

  // Everything each resource waits for, directly or not: decides solid or dashed links.
  const upstream = new Map<string, Set<string>>();
  const upstreamOf = (urn: string): Set<string> => {
    const known = upstream.get(urn);
    if (known) return known;
    const out = new Set<string>();
    upstream.set(urn, out); // set first: a cycle ends here instead of recursing for ever
    for (const dep of byUrn.get(urn)?.dependencies ?? []) {
      if (!byUrn.has(dep)) continue;
      out.add(dep);
      for (const u of upstreamOf(dep)) out.add(u);
    }
    return out;
  };

  const unitEdges: Edge[] = [];
  for (const r of shown) {
    for (const dep of r.dependencies) {
      const d = byUrn.get(dep);
      if (!d) continue;
      const [from, to] = [unitOf(d), unitOf(r)];
      // A component containing the other is drawn around it: no arrow for that.
      if (from !== to && !ancestors(to).has(from) && !ancestors(from).has(to)) unitEdges.push([from, to]);
    }
  }

  const lines = [
    "digraph resources {",
    // Left to right in creation order; each box's steps stacked top to bottom (rank=same).
    "  rankdir=LR; compound=true; newrank=true; ranksep=0.6; nodesep=0.18;",
    // Names in Courier: Graphviz compiled to WebAssembly has no fonts and estimates text
    // widths from tables, which fall short for Helvetica (long names overran their boxes)
    // and are exact for a fixed-width font. They are identifiers, too.
    '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Courier", fontsize=10, margin="0.12,0.04"];',
    '  edge [color="#555555", arrowsize=0.7];',
    '  graph [fontname="Helvetica", fontsize=11];',
  ];
  const first = new Map<string, string>();
  let anchors = 0;
  const emit = (parent: string, indent: string): void => {
    const steps: string[] = [];
    for (const r of children.get(parent) ?? []) {
      if (!isComponent(r)) {
        // Inside the box named "provision", "provision-create-user" says nothing more than "create-user".
        const prefix = `${byUrn.get(parent)?.name ?? ""}-`;
        const label = parent && r.name.startsWith(prefix) ? r.name.slice(prefix.length) : r.name;
        const kind = types.get(r.type) ?? r.type;
        // A staging step stands for its copies too: say how many.
        const folded = copies.get(r.urn) ?? [];
        const type = folded[0] === undefined ? kind : `${kind} + ${folded.length} ${types.get(folded[0].type) ?? folded[0].type}`;
        lines.push(`${indent}${quote(r.urn)} [label=<${html(label)}<br/><font point-size="8" color="#666666">${html(type)}</font>>];`);
        steps.push(r.urn);
        continue;
      }
      lines.push(
        `${indent}subgraph ${quote(`cluster_${r.urn}`)} {`,
        `${indent}  label=<<b>${html(types.get(r.type) ?? r.type)}</b><br align="left"/>${html(r.name)}<br align="left"/>>; labeljust=l; style="rounded,filled"; fillcolor="#eef3f8"; color="#7a8ea8";`,
      );
      const before = lines.length;
      emit(r.urn, `${indent}  `);
      if (lines.length === before) {
        // An empty cluster is not drawn at all: an invisible point keeps the box and its arrows.
        const anchor = `anchor ${++anchors}`;
        lines.push(`${indent}  ${quote(anchor)} [shape=point, style=invis, label=""];`);
        first.set(r.urn, anchor);
      }
      lines.push(`${indent}}`);
      // A box holding only boxes is reached through the first of them.
      const inner = first.get(r.urn);
      if (parent && inner !== undefined && !first.has(parent)) first.set(parent, inner);
    }
    if (steps.length === 0) return;
    if (parent) {
      first.set(parent, steps[0] as string);
      // One rank for the whole box: the list reads downwards while the boxes go left to right.
      lines.push(`${indent}{ rank=same; ${steps.map(quote).join("; ")}; }`);
    }
    for (let i = 1; i < steps.length && parent; i++) {
      const [a, b] = [steps[i - 1] as string, steps[i] as string];
      // Written b -> a, drawn a -> b: dot puts a flat edge's tail below its head when the
      // graph runs left to right, and the list must read downwards.
      const waits = upstreamOf(b).has(a);
      lines.push(`${indent}${quote(b)} -> ${quote(a)} [dir=${waits ? "back" : 'none, style=dashed, penwidth=1.2, color="#888888"'}];`);
    }
  };
  emit("", "  ");
  const reduced = transitiveReduction(unitEdges).sort(([a, b], [c, d]) => position(a) - position(c) || position(b) - position(d));
  for (const [from, to] of reduced) {
    // First step to first step: dot keeps an edge's ends level, so the boxes line up at
    // their tops instead of each starting where the one before it ends.
    const tail = first.get(from) ?? from;
    const head = first.get(to) ?? to;
    const attrs = [
      ...(first.has(from) ? [`ltail=${quote(`cluster_${from}`)}`] : []),
      ...(first.has(to) ? [`lhead=${quote(`cluster_${to}`)}`] : []),
      'penwidth=1.6, color="#2b4a6f"',
    ];
    lines.push(`  ${quote(tail)} -> ${quote(head)} [${attrs.join(", ")}];`);
  }
  lines.push(
    '  label="Boxes: components, left to right in the order pulumi up creates them; a thick arrow: the box waits for the one it comes from.\\l' +
      'Inside a box: its steps in order; a thin arrow: the step waits for the one above; dashed: they may run at the same time.\\l' +
      'Every dependency of every resource: npm run render -- --detail (graph-detail.svg).\\l"; labelloc=b; labeljust=l;',
    "}",
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Graphviz source of the whole resource graph (`--detail`): components as clusters of their
 * children, an edge for every dependency (what must exist first), a node per resource
 * labelled type + name.
 */
export function toDetailDot(resources: readonly PlannedResource[]): string {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string, PlannedResource[]>();
  for (const r of resources) {
    const key = r.parent && byUrn.has(r.parent) && COMPONENT.test(byUrn.get(r.parent)!.type) ? r.parent : "";
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const lines = ["digraph resources {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];'];
  const emit = (parent: string, indent: string): void => {
    for (const r of children.get(parent) ?? []) {
      if (COMPONENT.test(r.type)) {
        lines.push(`${indent}subgraph ${quote(`cluster_${r.urn}`)} {`, `${indent}  label=${quote(`${r.type}\n${r.name}`)};`);
        lines.push(`${indent}  ${quote(r.urn)} [label=${quote(r.name)}, shape=plaintext];`);
        emit(r.urn, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${quote(r.urn)} [label=${quote(`${r.type.split(":").pop()}\n${r.name}`)}];`);
      }
    }
  };
  emit("", "  ");
  for (const r of resources) {
    for (const dep of r.dependencies) if (byUrn.has(dep)) lines.push(`  ${quote(dep)} -> ${quote(r.urn)};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Lays the graph out with Graphviz compiled to WebAssembly: no system package needed. */
export async function toSvg(dot: string): Promise<string> {
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot);
}
