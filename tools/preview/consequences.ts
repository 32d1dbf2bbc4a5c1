import type { EffectKind } from "../../config/change-effects";
import type { Step } from "./steps";
import { poolConsequences } from "./pool-consequences";
import { campaignConsequence } from "./campaign-consequences";

/**
 * What a set of steps means to the admin, in this program's terms: the build VM, the
 * provisioning steps, the worker image, the submission. Each consequence has an id (what
 * config/reference.ts documents per key, and what the per-key test compares) and a line.
 * The one place that knows the resource names index.ts gives.
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
const WAITS = new Set(["wait-cloud-init"]);
/** The provisioning component's name in index.ts: its steps are `provision-<step>`. */
const PROVISION = "provision-";

/** The build VM's address and SSH group (index.ts's AccessNetwork "access"); the pool has its own. */
const BUILD_ACCESS = "access-";
/** The build VM's server (index.ts's BuildVm "build"). */
const BUILD_SERVER = "build-server";

const changed = (s: Step) => s.op !== "same";
const renewed = (s: Step) => s.op === "create" || s.op === "replace";

/** The provisioning steps (not the staging and copies) in the order the program runs them. */
export function provisioningSteps(steps: readonly Step[]): Step[] {
  return steps.filter((s) => s.type === REMOTE && s.name.startsWith(PROVISION) && !s.name.startsWith(`${PROVISION}stage-`));
}

const stepId = (s: Step) => s.name.slice(PROVISION.length);

export function consequences(steps: readonly Step[]): Consequence[] {
  const out: Consequence[] = [];
  const add = (id: `${EffectKind}` | `${EffectKind}:${string}`, text: string) => out.push({ id, text });
  const of = (pred: (s: Step) => boolean) => steps.filter(pred);
  const live = steps.filter((s) => s.op !== "delete");

  if (of((s) => s.type.startsWith("pulumi:providers:openstack") && s.op === "replace").length > 0) {
    add("recreated-everything", "everything is recreated in the other cloud");
  }
  if (of((s) => s.type === KEYPAIR && renewed(s) && s.oldInputs !== undefined).length > 0) add("new-key-pair", "a new key pair (the old one deleted first)");
  const access = (s: Step) => s.name.startsWith(BUILD_ACCESS);
  if (of((s) => SECGROUP.test(s.type) && access(s) && changed(s)).length > 0) {
    const added = of((s) => s.type.endsWith(":SecGroupRule") && access(s) && s.op === "create").map((s) => String(s.newInputs?.remoteIpPrefix));
    const removed = of((s) => s.type.endsWith(":SecGroupRule") && access(s) && s.op === "delete").map((s) => String(s.oldInputs?.remoteIpPrefix));
    const detail = [...added.map((c) => `+${c}`), ...removed.map((c) => `-${c}`)].join(" ");
    add("ssh-rules-changed", `the SSH rules change${detail ? ` (${detail})` : ""}`);
  }
  if (of((s) => s.type === PORT && access(s) && s.op === "replace").length > 0) add("new-port", "a new port on the project network");
  const newAddress = of((s) => s.type === FIP && access(s) && s.op === "replace").length > 0;
  if (newAddress) add("new-address", "a new floating IP address");
  else if (of((s) => s.type === ASSOC && access(s) && changed(s)).length > 0) add("address-moved", "the floating IP association changes");

  const vm = live.find((s) => s.type === INSTANCE && s.name === BUILD_SERVER);
  if (vm?.op === "replace") add("build-vm-replaced", `replaces the build VM${vm.deleteBeforeReplace ? " (the old one deleted first)" : ""}`);
  else if (vm?.op === "update") add("build-vm-updated", `updates the build VM in place (${vm.diffReasons.join(", ")})`);

  const ensure = live.find((s) => s.type === LOCAL && s.name.endsWith("-ensure-running"));
  if (ensure && renewed(ensure) && vm?.op !== "replace") add("starts-build-vm", "starts the build VM first if a snapshot stopped it");

  const provisioning = provisioningSteps(live).filter((s) => !WAITS.has(stepId(s)));
  const rerun = provisioning.filter(changed);
  if (rerun.length > 0) {
    const first = provisioning.indexOf(rerun[0] as Step);
    const suffix = provisioning.slice(first).every(changed);
    const ids = rerun.map(stepId);
    if (suffix) add(`provisioning-from:${ids[0]}`, `provisioning re-runs from ${ids[0]} (${ids.join(", ")})`);
    else add(`provisioning-steps:${ids.join(",")}`, `provisioning re-runs ${ids.join(", ")} only`);
  }

  const image = live.find((s) => s.type === LOCAL && s.name.endsWith("-image") && !s.name.endsWith("-base-image"));
  const cleanup = steps.find((s) => s.name.endsWith("-delete-on-destroy"));
  if (image && renewed(image)) {
    const deletesOnDestroy = cleanup !== undefined && cleanup.op !== "delete";
    const kept = image.op === "replace" ? (deletesOnDestroy ? "; the previous image is kept for held jobs (delete it by hand when they are done)" : "; the previous image is kept") : "";
    add("new-image", `a new worker image${kept}`);
  }
  if (cleanup?.op === "create") add("image-deleted-on-destroy", "`pulumi destroy` will delete the current worker image");
  if (cleanup?.op === "delete") add("image-kept-on-destroy", "`pulumi destroy` will keep the worker image");
  const deleteVm = live.find((s) => s.name.endsWith("-delete-build-vm"));
  if (deleteVm && renewed(deleteVm)) add("deletes-build-vm", "deletes the build VM once the image is active");
  else if (of((s) => s.name.endsWith("-delete-build-vm") && s.op === "delete").length > 0) add("keeps-build-vm", "the build VM is no longer deleted after the snapshot");

  const certificate = live.find((s) => s.type === REMOTE && s.name.endsWith("-certificate"));
  if (certificate?.op === "update") add("new-certificate", "a fresh CADC certificate for the jobs, in the same run directory (queued jobs get it too)");
  const submit = live.find((s) => s.type === REMOTE && s.name.endsWith("-submit"));
  out.push(...poolConsequences(steps));
  const campaign = campaignConsequence(steps);
  if (campaign) add(campaign.id, campaign.text);
  else if (submit?.op === "update") add("resubmit-same", "submit.sh runs again in the same run directory and finds its cluster: nothing is submitted");
  if (of((s) => s.type === REMOTE && s.name.endsWith("-submit") && s.op === "delete").length > 0) add("no-submission", "nothing is submitted any more (queued jobs stay)");
  return out;
}
