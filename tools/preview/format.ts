import type { Consequence } from "./consequences";
import type { Hazard } from "./hazards";
import { changeSummary, type Step } from "./steps";

export type Format = "text" | "markdown" | "json";
export const FORMATS: readonly Format[] = ["text", "markdown", "json"];

export interface Prediction {
  steps: Step[];
  consequences: Consequence[];
  hazards: Hazard[];
  /** Where the steps came from, for the heading. */
  source: string;
}

const ORDER = ["replace", "create", "update", "delete", "same"] as const;

function detail(s: Step): string {
  if (s.op === "replace") {
    const how = s.deleteBeforeReplace === null ? "" : s.deleteBeforeReplace ? ", delete first" : ", create first";
    return ` (${s.replaceReasons.join(", ")}${how})`;
  }
  if (s.op === "update") return ` (${s.diffReasons.join(", ")})`;
  return "";
}

function summaryLine(steps: readonly Step[]): string {
  const summary = changeSummary(steps);
  return ORDER.filter((op) => summary[op]).map((op) => `${summary[op]} ${op}`).join(", ") || "no resources";
}

const changes = (steps: readonly Step[]) => steps.filter((s) => s.op !== "same");

export function formatText(p: Prediction): string {
  const lines = [`preview: ${p.source}`, `steps: ${summaryLine(p.steps)}`];
  if (changes(p.steps).length === 0) {
    lines.push("nothing changes: every resource stays as it is");
  } else {
    lines.push("", "what happens:", ...p.consequences.map((c) => `  - ${c.text}`), "", "steps:");
    for (const s of changes(p.steps)) lines.push(`  ${s.op.padEnd(7)} ${s.type} ${s.name}${detail(s)}`);
  }
  if (p.hazards.length > 0) lines.push("", "UNSAFE:", ...p.hazards.map((h) => `  ! ${h.message}`));
  return `${lines.join("\n")}\n`;
}

/** One PR comment: the marker lets a workflow find and edit its own comment. */
export const COMMENT_MARKER = "<!-- canfar-batch-preview -->";

export function formatMarkdown(p: Prediction): string {
  const lines = [COMMENT_MARKER, `### canfar-batch preview`, "", `${p.source}: **${summaryLine(p.steps)}**`, ""];
  if (p.hazards.length > 0) lines.push("> [!CAUTION]", ...p.hazards.map((h) => `> ${h.message}`), "");
  if (changes(p.steps).length === 0) {
    lines.push("Nothing changes: every resource stays as it is.");
  } else {
    lines.push(...p.consequences.map((c) => `- ${c.text}`), "", "<details><summary>steps</summary>", "", "| op | type | name | why |", "| --- | --- | --- | --- |");
    for (const s of changes(p.steps)) {
      const why = s.op === "replace" ? detail(s).slice(2, -1) : s.op === "update" ? s.diffReasons.join(", ") : "";
      lines.push(`| ${s.op} | \`${s.type}\` | \`${s.name}\` | ${why} |`);
    }
    lines.push("", "</details>");
  }
  return `${lines.join("\n")}\n`;
}

/** The shape of `pulumi preview --json` (steps, changeSummary), plus what it means. */
export function formatJson(p: Prediction): string {
  const doc = {
    steps: p.steps.map((s) => ({
      op: s.op,
      urn: s.urn,
      type: s.type,
      name: s.name,
      diffReasons: s.diffReasons,
      replaceReasons: s.replaceReasons,
      deleteBeforeReplace: s.deleteBeforeReplace,
    })),
    changeSummary: changeSummary(p.steps),
    consequences: p.consequences,
    hazards: p.hazards,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function formatPrediction(p: Prediction, format: Format): string {
  return format === "json" ? formatJson(p) : format === "markdown" ? formatMarkdown(p) : formatText(p);
}
