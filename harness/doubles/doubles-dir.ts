import { resolve } from "node:path";

/** Directory holding the doubles (openstack, canfar_submit, condor_*): put it first on PATH. */
export const DOUBLES_DIR = resolve(__dirname);

/** Directory holding the CADC doubles (cadcget and the VOSpace client): what a worker and a batch host call. */
export const CADC_DOUBLES_DIR = resolve(__dirname, "..", "cadc-doubles");
