/**
 * Which HTCondor pool the jobs go to: CANFAR's batch service (`canfar`: submitted from its
 * batch host with canfar_submit) or a pool the stack declares itself (`self-hosted`: a submit
 * node and workers booted from the worker image, jobs submitted with condor_submit). Each
 * system has keys the other cannot use; a key of the other system is refused by name rather
 * than ignored, so a stack never looks configured for a batch host it does not submit to
 * (each key's system is said in config/keys/, the refusal in config/batch-system-keys.ts).
 */
export const BATCH_SYSTEMS = ["canfar", "self-hosted"] as const;
export type BatchSystem = (typeof BATCH_SYSTEMS)[number];

/**
 * How submit.sh queues the jobs: one of canfar_submit's generations (domain/submit-mode.ts),
 * or `self-hosted`, condor_submit on the stack's own submit node.
 */
export type SubmitCommand = "csv1" | "csv2" | "self-hosted";

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
