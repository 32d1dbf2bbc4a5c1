import type { EffectKind } from "../../config/change-effects";
import { ACCESS_NETWORK_TYPE } from "../../build/access-network";
import { BUILD_VM_STEPS, BUILD_VM_TYPE } from "../../build/build-vm";
import { PROVISIONING_STEPS, PROVISIONING_TYPE } from "../../build/provisioning";
import { isStageStep, PLAN_STEPS } from "../../build/provisioning-plan";
import { SNAPSHOT_STEPS, SNAPSHOT_TYPE } from "../../image/snapshot";
import { BATCH_SUBMISSION_STEPS, BATCH_SUBMISSION_TYPE } from "../../batch/batch-submission";
import { SUBMIT_NODE_TYPE } from "../../pool/submit-node";
import type { Step } from "./steps";
import { isStep, outerType, parentType, stepIn } from "./component-step";
import { poolConsequences } from "./pool-consequences";
import { campaignConsequence } from "./campaign-consequences";

/**
 * What a set of steps means to the admin, in this program's terms: the build VM, the
 * provisioning steps, the worker image, the submission. Each consequence has an id (what
 * config/reference.ts documents per key, and what the per-key test compares) and a line.
 * Steps are known by the type of the component holding them and their id in it
 * (component-step.ts), never by the names index.ts gives.
 */
export interface Consequence {
  id: string;
  text: string;
}

const INSTANCE = "openstack:compute/instance:Instance";
const KEYPAIR = "openstack:compute/keypair:Keypair";
const FIP = "openstack:networking/floatingIp:FloatingIp";
const ASSOC = "openstack:networking/floatingIpAssociate:FloatingIpAssociate";
const PORT = "openstack:networking/port:Port";
const SECGROUP = /^openstack:networking\/secGroup(Rule)?:/;
const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";
/** Steps of the wait kind: they re-run with a start and change nothing themselves. */
const WAITS = new Set<string>([PLAN_STEPS.waitCloudInit]);

const changed = (s: Step) => s.op !== "same";
const renewed = (s: Step) => s.op === "create" || s.op === "replace";

/** A provisioning step's id: the plan's action id. */
const actionId = (s: Step) => stepIn(s, PROVISIONING_TYPE) ?? s.name;

/** The provisioning steps (not the staging and copies) in the order the program runs them. */
export function provisioningSteps(steps: readonly Step[]): Step[] {
  return steps.filter((s) => {
    const id = stepIn(s, PROVISIONING_TYPE);
    return s.type === REMOTE && id !== undefined && !isStageStep(id);
  });
}

/** The build VM's address and SSH group; the submit node has an AccessNetwork of its own. */
const buildAccess = (s: Step) => parentType(s.urn) === ACCESS_NETWORK_TYPE && outerType(s) !== SUBMIT_NODE_TYPE;

export function consequences(steps: readonly Step[]): Consequence[] {
  const out: Consequence[] = [];
  const add = (id: `${EffectKind}` | `${EffectKind}:${string}`, text: string) => out.push({ id, text });
  const of = (pred: (s: Step) => boolean) => steps.filter(pred);
  const live = steps.filter((s) => s.op !== "delete");

  if (of((s) => s.type.startsWith("pulumi:providers:openstack") && s.op === "replace").length > 0) {
    add("recreated-everything", "everything is recreated in the other cloud");
  }
  if (of((s) => s.type === KEYPAIR && renewed(s) && s.oldInputs !== undefined).length > 0) add("new-key-pair", "a new key pair (the old one deleted first)");
  if (of((s) => SECGROUP.test(s.type) && buildAccess(s) && changed(s)).length > 0) {
    const added = of((s) => s.type.endsWith(":SecGroupRule") && buildAccess(s) && s.op === "create").map((s) => String(s.newInputs?.remoteIpPrefix));
    const removed = of((s) => s.type.endsWith(":SecGroupRule") && buildAccess(s) && s.op === "delete").map((s) => String(s.oldInputs?.remoteIpPrefix));
    const detail = [...added.map((c) => `+${c}`), ...removed.map((c) => `-${c}`)].join(" ");
    add("ssh-rules-changed", `the SSH rules change${detail ? ` (${detail})` : ""}`);
  }
  if (of((s) => s.type === PORT && buildAccess(s) && s.op === "replace").length > 0) add("new-port", "a new port on the project network");
  const newAddress = of((s) => s.type === FIP && buildAccess(s) && s.op === "replace").length > 0;
  if (newAddress) add("new-address", "a new floating IP address");
  else if (of((s) => s.type === ASSOC && buildAccess(s) && changed(s)).length > 0) add("address-moved", "the floating IP association changes");

  const vm = live.find((s) => s.type === INSTANCE && isStep(s, BUILD_VM_TYPE, BUILD_VM_STEPS.server));
  if (vm?.op === "replace") add("build-vm-replaced", `replaces the build VM${vm.deleteBeforeReplace ? " (the old one deleted first)" : ""}`);
  else if (vm?.op === "update") add("build-vm-updated", `updates the build VM in place (${vm.diffReasons.join(", ")})`);

  const ensure = live.find((s) => s.type === LOCAL && isStep(s, PROVISIONING_TYPE, PROVISIONING_STEPS.ensureRunning));
  if (ensure && renewed(ensure) && vm?.op !== "replace") add("starts-build-vm", "starts the build VM first if a snapshot stopped it");

  const provisioning = provisioningSteps(live).filter((s) => !WAITS.has(actionId(s)));
  const rerun = provisioning.filter(changed);
  if (rerun.length > 0) {
    const first = provisioning.indexOf(rerun[0] as Step);
    const suffix = provisioning.slice(first).every(changed);
    const ids = rerun.map(actionId);
    if (suffix) add(`provisioning-from:${ids[0]}`, `provisioning re-runs from ${ids[0]} (${ids.join(", ")})`);
    else add(`provisioning-steps:${ids.join(",")}`, `provisioning re-runs ${ids.join(", ")} only`);
  }

  const image = live.find((s) => s.type === LOCAL && isStep(s, SNAPSHOT_TYPE, SNAPSHOT_STEPS.image));
  const cleanup = steps.find((s) => isStep(s, SNAPSHOT_TYPE, SNAPSHOT_STEPS.deleteOnDestroy));
  if (image && renewed(image)) {
    const deletesOnDestroy = cleanup !== undefined && cleanup.op !== "delete";
    const kept = image.op === "replace" ? (deletesOnDestroy ? "; the previous image is kept for held jobs (delete it by hand when they are done)" : "; the previous image is kept") : "";
    add("new-image", `a new worker image${kept}`);
  }
  if (cleanup?.op === "create") add("image-deleted-on-destroy", "`pulumi destroy` will delete the current worker image");
  if (cleanup?.op === "delete") add("image-kept-on-destroy", "`pulumi destroy` will keep the worker image");
  const deletesVm = (s: Step) => isStep(s, SNAPSHOT_TYPE, SNAPSHOT_STEPS.deleteBuildVm);
  const deleteVm = live.find(deletesVm);
  if (deleteVm && renewed(deleteVm)) add("deletes-build-vm", "deletes the build VM once the image is active");
  else if (of((s) => deletesVm(s) && s.op === "delete").length > 0) add("keeps-build-vm", "the build VM is no longer deleted after the snapshot");

  const certificate = live.find((s) => s.type === REMOTE && isStep(s, BATCH_SUBMISSION_TYPE, BATCH_SUBMISSION_STEPS.certificate));
  if (certificate?.op === "update") add("new-certificate", "a fresh CADC certificate for the jobs, in the same run directory (queued jobs get it too)");
  const submits = (s: Step) => s.type === REMOTE && isStep(s, BATCH_SUBMISSION_TYPE, BATCH_SUBMISSION_STEPS.submit);
  const submit = live.find(submits);
  out.push(...poolConsequences(steps));
  const campaign = campaignConsequence(steps);
  if (campaign) add(campaign.id, campaign.text);
  else if (submit?.op === "update") add("resubmit-same", "submit.sh runs again in the same run directory and finds its cluster: nothing is submitted");
  if (of((s) => submits(s) && s.op === "delete").length > 0) add("no-submission", "nothing is submitted any more (queued jobs stay)");
  return out;
}
