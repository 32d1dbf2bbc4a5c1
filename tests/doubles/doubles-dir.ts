import { resolve } from "node:path";

/** Directory holding the doubles (openstack, canfar_submit, condor_*): put it first on PATH. */
export const DOUBLES_DIR = resolve(__dirname);
