/**
 * Which HTCondor pool the jobs go to: CANFAR's batch service (`canfar`: submitted from its
 * batch host with canfar_submit) or a pool the stack declares itself (`self-hosted`: a submit
 * node and workers booted from the worker image, jobs submitted with condor_submit). Each
 * system has keys the other cannot use; a key of the other system is refused by name rather
 * than ignored, so a stack never looks configured for a batch host it does not submit to.
 */
export const BATCH_SYSTEMS = ["canfar", "self-hosted"] as const;
export type BatchSystem = (typeof BATCH_SYSTEMS)[number];

/**
 * How submit.sh queues the jobs: one of canfar_submit's generations (domain/submit-mode.ts),
 * or `self-hosted`, condor_submit on the stack's own submit node.
 */
export type SubmitCommand = "csv1" | "csv2" | "self-hosted";

/** Keys only CANFAR's batch service reads: its batch host, canfar_submit's mode and csv1's project. */
export const CANFAR_ONLY_KEYS = [
  "batchHost",
  "batchHostKey",
  "batchUser",
  "batchPort",
  "submitMode",
  "openstackAuthUrl",
  "openstackProjectName",
  "openstackProjectId",
  "openstackUserDomainName",
] as const;

/** Keys only the stack's own pool reads. */
export const SELF_HOSTED_ONLY_KEYS = ["workerCount", "submitNodeFlavor", "poolPassword"] as const;

/**
 * The most workers one stack declares. One schedd and one collector handle far more, but the
 * project's quotas bind long before (an Alliance RAC allocation is tens of instances, and
 * every worker takes an instance, a port and its flavor's cores and RAM), and each worker is
 * three resources that one `pulumi up` creates and one scale-down drains: beyond 100 a pool
 * belongs on a batch service, not in one stack.
 */
export const MAX_WORKERS = 100;

/** `openssl rand -base64 32` prints 44 characters; 24 is well above what can be guessed. */
export const POOL_PASSWORD_MIN = 24;

/**
 * condor_store_cred reads at most this many characters of a pool password: the config
 * refuses a longer one by key, and the pool's user-data renderer will not write one.
 */
export const POOL_PASSWORD_MAX = 255;

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
