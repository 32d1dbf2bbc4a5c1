import type * as pulumi from "@pulumi/pulumi";
import type { SubmitCommand } from "../domain/batch-system";
import type { CloudAccess } from "../lib/cloud-access";
import { BatchSubmission, type OpenStackCredentials } from "./batch-submission";
import type { CampaignSettings } from "./campaign-settings";

/** A batch host of CANFAR's (or any HTCondor submit host the admin can reach over SSH). */
export interface BatchHostArgs {
  host: string;
  hostKey: string;
  port: number;
  user: string;
  submission: { mode: "csv1"; project: Omit<OpenStackCredentials, "username" | "password"> } | { mode: Exclude<SubmitCommand, "csv1" | "self-hosted"> };
  cadcUser: string;
  cadcPassword: pulumi.Input<string>;
}

/** Tutorial step 10 on the project's batch host, with canfar_submit's csv1 or csv2. */
export function batchHostSubmission(args: BatchHostArgs, campaign: CampaignSettings, cloud: CloudAccess): BatchSubmission {
  const { submission } = args;
  return new BatchSubmission(
    "batch",
    {
      ...campaign,
      host: args.host,
      hostKey: args.hostKey,
      port: args.port,
      user: args.user,
      mode: submission.mode,
      ...(submission.mode === "csv1"
        ? {
            credentials: {
              ...submission.project,
              // On arbutus-canfar the OpenStack login is the CADC account.
              username: args.cadcUser,
              password: args.cadcPassword,
            },
          }
        : {}),
    },
    cloud.opts,
  );
}
