import * as pulumi from "@pulumi/pulumi";
import { offlineMocks } from "../../tools/render/mocks";

/**
 * The plain value of an Output the program marks secret (the evaluation shows such values
 * only as "[secret]"). Runs under the same offline mocks as the evaluation, so Outputs
 * resolve; the SDK's runtime is global to the process, so call it between evaluations.
 */
export async function resolveSecret<T>(make: () => pulumi.Output<T>): Promise<T> {
  await pulumi.runtime.setMocks(offlineMocks, "canfar-batch", "dev", false);
  const output = make();
  return new Promise<T>((resolve) => {
    output.apply((value) => {
      resolve(value);
      return value;
    });
  });
}
