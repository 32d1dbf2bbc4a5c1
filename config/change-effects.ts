/**
 * What changing a stack does, as an admin thinks of it. The config reference says, per key,
 * which of these a change of it has on the dev stack; `npm run preview` finds them in the
 * steps it predicts; a test holds the two to each other, key by key.
 */
export const EFFECTS = {
  "recreated-everything": "everything is recreated in the other cloud",
  "new-key-pair": "a new key pair",
  "ssh-rules-changed": "the SSH rules change",
  "new-port": "a new port",
  "new-address": "a new floating IP address",
  "address-moved": "the floating IP association changes",
  "build-vm-replaced": "replaces the build VM",
  "build-vm-updated": "updates the build VM in place",
  "starts-build-vm": "starts the build VM if stopped",
  "provisioning-from": "re-runs provisioning from",
  "provisioning-steps": "re-runs only",
  "new-image": "a new worker image (the old one kept)",
  "image-deleted-on-destroy": "destroy will delete the current image",
  "image-kept-on-destroy": "destroy will keep the image",
  "deletes-build-vm": "deletes the build VM once imaged",
  "keeps-build-vm": "keeps the build VM after imaging",
  "new-submission": "a new submission, queuing only exposures not yet catalogued by the pipeline",
  "no-requeue": "submit.sh runs in a new run directory and queues no exposure already catalogued (the pipeline identity is unchanged)",
  "requeue-all": "every exposure is queued again",
  "new-certificate": "a fresh certificate for the jobs",
  "resubmit-same": "submit.sh re-runs and finds its cluster (nothing submitted)",
  "no-submission": "nothing is submitted any more",
  "pool-created": "the stack's own pool is created: a submit node and the workers",
  "submit-node-replaced": "replaces the submit node (its queue goes with it)",
  "workers-added": "adds workers",
  "workers-drained-removed": "drains the highest-numbered workers, then deletes them",
  "workers-replaced": "replaces every worker, each drained first",
} as const;

export type EffectKind = keyof typeof EFFECTS;

/** `provisioning-from:create-user` → "re-runs provisioning from create-user". */
export function effectText(id: string): string {
  const [kind, arg] = id.split(":", 2) as [EffectKind, string | undefined];
  const text = EFFECTS[kind];
  if (text === undefined) throw new Error(`unknown change effect '${id}'`);
  return arg === undefined ? text : `${text} ${arg.split(",").join(", ")}`;
}
