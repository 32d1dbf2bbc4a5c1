import type { BatchSubmissionArgs } from "./batch-submission";

/**
 * What a submission carries whichever host it goes to: the campaign (exposures, pipeline,
 * policy, destination), the worker image and flavor, the CADC account and how SSH
 * authenticates. The host, its user and the submit command depend on the batch system.
 */
export type CampaignSettings = Pick<
  BatchSubmissionArgs,
  "auth" | "stack" | "ids" | "pipeline" | "policy" | "imageName" | "workerFlavor" | "destination" | "cadc" | "expectedRunHours" | "exposuresPerJob"
>;
