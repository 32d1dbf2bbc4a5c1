import { z } from "zod";
import { BATCH_SYSTEMS, MAX_WORKERS, POOL_PASSWORD_MAX, POOL_PASSWORD_MIN } from "../../domain/batch-system";
import { DEFAULTS } from "../defaults";
import { code, type KeyGroup } from "./key-spec";
import { flavorName, positiveInt } from "./parsers";

/** Which pool runs the jobs, and the stack's own (self-hosted) pool. */
export const POOL_KEYS = {
  batchSystem: {
    parser: z.enum(BATCH_SYSTEMS, { error: `expected one of ${BATCH_SYSTEMS.join(", ")}` }).default("canfar"),
    kind: "text",
    reference: { what: "`canfar` (CANFAR's batch service, from `batchHost`) or `self-hosted` (the stack's own HTCondor pool: a submit node and `workerCount` workers from the worker image; see *Your own HTCondor pool*); each refuses the other's keys", default: code("canfar"), changes: ["build-vm-replaced", "provisioning-from:create-user", "new-image", "pool-created", "no-requeue"], note: "to self-hosted (the image gains HTCondor, so a new build VM and image); back to canfar deletes the pool" },
  },
  workerCount: {
    parser: positiveInt(0, MAX_WORKERS).optional(),
    kind: "number",
    batchSystem: "self-hosted",
    reference: { what: `workers of the self-hosted pool, \`<prefix>-worker-<i>\`: 0 (none, nothing billed for workers) to ${MAX_WORKERS}`, default: `${code(String(DEFAULTS.workerCount))} (self-hosted only)`, changes: ["workers-drained-removed"], note: "fewer workers (2 to 1 here); more workers only adds the new ones" },
  },
  submitNodeFlavor: {
    parser: flavorName("p2-3gb").optional(),
    kind: "text",
    batchSystem: "self-hosted",
    reference: { what: "flavor of the self-hosted pool's submit node (central manager and schedd; runs no jobs, so a small `p*` flavor will do)", default: "`flavor` (self-hosted only)", changes: ["submit-node-replaced", "no-requeue"], note: "the queue of the old node goes with it" },
  },
  poolPassword: {
    parser: z
      .string()
      .min(POOL_PASSWORD_MIN, { error: `expected at least ${POOL_PASSWORD_MIN} characters; make one with \`openssl rand -base64 32 | pulumi config set --secret canfar:poolPassword\`` })
      // What the pool's user-data can hold: condor_store_cred reads no more.
      .max(POOL_PASSWORD_MAX, { error: `expected at most ${POOL_PASSWORD_MAX} characters (HTCondor reads no more of a pool password); \`openssl rand -base64 32\` makes one of 44` })
      // HTCondor reads the pool password from a file up to its first line break; white space
      // at either end would be a different password on different nodes' tools.
      .regex(/^[\x21-\x7e]+$/, { error: "expected printable ASCII without spaces (`openssl rand -base64 32` makes one)" })
      .optional(),
    kind: "text",
    secret: true,
    batchSystem: "self-hosted",
    reference: { what: `the self-hosted pool's secret, ${POOL_PASSWORD_MIN} to ${POOL_PASSWORD_MAX} printable characters without spaces: \`openssl rand -base64 32 | pulumi config set --secret canfar:poolPassword\``, default: "required for self-hosted", changes: ["submit-node-replaced", "workers-replaced", "no-requeue"], note: "every node gets it in its user-data" },
  },
} satisfies KeyGroup;
