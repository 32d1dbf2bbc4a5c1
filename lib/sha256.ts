import { createHash } from "node:crypto";

/** Hex SHA-256 of the parts, each followed by a NUL, so ("ab", "c") and ("a", "bc") differ. */
export function sha256(...parts: Array<string | Buffer>): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}
