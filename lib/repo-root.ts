import { join } from "node:path";

/** The checkout `pulumi up` runs from: local commands run here, with paths relative to it. */
export const REPO_ROOT = join(__dirname, "..");
