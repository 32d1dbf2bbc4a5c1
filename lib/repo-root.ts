import { join } from "node:path";

/** The repository's root: scripts and pipeline files are read from here at evaluation. */
export const REPO_ROOT = join(__dirname, "..");
