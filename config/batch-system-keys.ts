import type { BatchSystem } from "../domain/batch-system";
import { batchSystemKeys } from "./keys";

/** Keys only CANFAR's batch service reads: its batch host, canfar_submit's mode and csv1's project. */
export const CANFAR_ONLY_KEYS = batchSystemKeys("canfar");

/** Keys only the stack's own pool reads. */
export const SELF_HOSTED_ONLY_KEYS = batchSystemKeys("self-hosted");

/** One message per key that belongs to the other batch system, among those given. */
export function batchSystemProblems(system: BatchSystem, given: ReadonlySet<string>): Array<[key: string, message: string]> {
  if (system === "self-hosted") {
    return CANFAR_ONLY_KEYS.filter((k) => given.has(k)).map((k) => [
      k,
      "is for CANFAR's batch service (canfar:batchSystem canfar); with canfar:batchSystem self-hosted the jobs are submitted with condor_submit on the stack's own submit node: remove it",
    ]);
  }
  return SELF_HOSTED_ONLY_KEYS.filter((k) => given.has(k)).map((k) => [
    k,
    "is for the stack's own HTCondor pool; set canfar:batchSystem to self-hosted to use it, or remove it",
  ]);
}
