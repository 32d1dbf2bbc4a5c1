import type { Evaluation } from "../offline/evaluate";
import { declaredCommand, type DeclaredCommand } from "./declared-command";

/** The BatchSubmission's commands as the program declared them, and what they name. */
export interface DeclaredBatch {
  deliveries: DeclaredCommand[];
  /** Makes the jobs' certificate in the run directory; its stdin (the CADC password) is secret. */
  certificate: DeclaredCommand;
  submit: DeclaredCommand;
  /** Home-relative, e.g. canfar-batch/runs/dev-0123456789ab. */
  runDir: string;
  image: string;
  /** The stack output: `ssh USER@HOST bash RUN_DIR/follow.sh CLUSTER` (cluster "0" offline). */
  followCommand: string;
  /** The stack output: `ssh USER@HOST bash RUN_DIR/campaign.sh`. */
  campaignCommand: string;
  /** The pipeline identity submit.sh is given (--pipeline). */
  pipeline: string;
}

export function declaredBatch(e: Evaluation): DeclaredBatch {
  const deliveries = e.resources.filter((r) => r.name.startsWith("batch-deliver-")).map((r) => declaredCommand(e, r.name));
  const certificate = declaredCommand(e, "batch-certificate");
  const submit = declaredCommand(e, "batch-submit");
  const runDir = /--run-dir '([^']+)'/.exec(submit.create)?.[1];
  const image = /--image '([^']+)'/.exec(submit.create)?.[1];
  const pipeline = /--pipeline ([0-9a-f]{12})/.exec(submit.create)?.[1];
  if (!runDir || !image || !pipeline) throw new Error(`unexpected submit command: ${submit.create}`);
  const followCommand = e.outputs.followCommand;
  const campaignCommand = e.outputs.campaignCommand;
  if (typeof followCommand !== "string") throw new Error(`followCommand output: ${JSON.stringify(followCommand)}`);
  if (typeof campaignCommand !== "string") throw new Error(`campaignCommand output: ${JSON.stringify(campaignCommand)}`);
  return { deliveries, certificate, submit, runDir, image, followCommand, campaignCommand, pipeline };
}

/** The remote part of the exported follow command, for `cluster`: what the user runs after `ssh USER@HOST`. */
export function followRemoteCommand(batch: DeclaredBatch, sshPrefix: string, cluster: string): string {
  if (!batch.followCommand.startsWith(sshPrefix)) throw new Error(`followCommand '${batch.followCommand}' does not start with '${sshPrefix}'`);
  return batch.followCommand.slice(sshPrefix.length).replace(/ 0$/, ` ${cluster}`);
}
