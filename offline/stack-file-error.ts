import { LineCounter, parseDocument, type YAMLError } from "yaml";

/**
 * A stack file that is not the YAML the engine reads, each problem as `FILE:LINE:COLUMN: what
 * is wrong`: a usage error for the person editing it (exit 2), never a library's stack trace.
 */
export class StackFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "StackFileError";
  }
}

/** What the YAML library says, in words for someone who typed the file by hand. */
function explain(error: YAMLError, text: string): string {
  const [start, end] = error.pos;
  switch (error.code) {
    case "TAB_AS_INDENT":
      return "a tab indents this line; YAML indents with spaces only";
    case "DUPLICATE_KEY": {
      // Keys hold colons (canfar:flavor): the key ends at the first colon before a space.
      const key = /^([^\n]*?):(?=\s|$)/.exec(text.slice(start))?.[1]?.trim() ?? "";
      return `'${key.slice(0, 80)}' is set twice in the same map; keep one`;
    }
    case "MULTILINE_IMPLICIT_KEY":
      // The usual cause in a stack file: `canfar:flavor c2-7.5gb-30`.
      return `${error.message}; is a ': ' missing after a key?`;
    case "MISSING_CHAR":
      // The library says both a missing ': ' and an unclosed quote this way.
      if (/map values/.test(error.message)) return `${error.message}; is a ': ' missing after a key?`;
      return `${error.message}: a quote or bracket opened before here is never closed`;
    default:
      return text.slice(start, end).includes("\t") ? `${error.message} (a tab: YAML indents with spaces only)` : error.message;
  }
}

/**
 * Lines that read `canfar:network my-net`: a key and its value without the ': ' between
 * them. The parser takes such a line for part of a longer text and reports the error lines
 * later, where the map goes on; this names the line the user has to fix.
 */
function missingColons(text: string, path: string): string[] {
  return text.split("\n").flatMap((line, i) => {
    const m = /^(\s+)([A-Za-z][\w-]*:[A-Za-z]\w*)\s+[^\s#:]/.exec(line);
    return m ? [`${path}:${i + 1}:${(m[1] as string).length + 1}: '${m[2]}' is followed by a value without ': ' between them; write \`${m[2]}: ...\``] : [];
  });
}

/** The YAML document in `text`, or a StackFileError naming every syntax problem by line and column. */
export function parseYamlFile(text: string, path: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  // After the first syntax error the parser's view of the rest is a guess: one tab makes
  // every later line "not at the same column". The first is the one to fix.
  const [first, ...rest] = doc.errors;
  if (first !== undefined) {
    const colons = missingColons(text, path);
    if (colons.length > 0) throw new StackFileError(colons);
    const more = rest.length === 0 ? [] : [`(and ${rest.length} more after it, which may all follow from it: fix this one first)`];
    throw new StackFileError([`${at(first.pos[0])}: ${explain(first, text)}`, ...more]);
  }
  const contents = doc.contents;
  const value: unknown = doc.toJS();
  if (value !== null && value !== undefined && (typeof value !== "object" || Array.isArray(value))) {
    throw new StackFileError([`${at(contents?.range?.[0] ?? 0)}: expected a map with a 'config:' key, as in Pulumi.dev.yaml`]);
  }
  const config = (value as { config?: unknown } | null)?.config;
  if (config !== null && config !== undefined && (typeof config !== "object" || Array.isArray(config))) {
    const node = doc.get("config", true) as { range?: [number, number, number] } | undefined;
    throw new StackFileError([`${at(node?.range?.[0] ?? 0)}: 'config' must be a map of namespace:key to value (canfar:flavor: c2-7.5gb-30)`]);
  }
  return value;
}
