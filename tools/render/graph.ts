import type { PlannedResource } from "./capture";

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

const COMPONENT = /^canfar:/;

/**
 * Graphviz source of the resource graph: components as clusters of their children, solid
 * edges for dependencies (what must exist first), a node per resource labelled type + name.
 */
export function toDot(resources: readonly PlannedResource[]): string {
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
