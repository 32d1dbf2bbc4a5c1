import * as pulumi from "@pulumi/pulumi";
import { offlineMocks } from "../../offline/mocks";

/**
 * The plain value of an Output the program marks secret (the evaluation shows such values
 * only as "[secret]"). Runs under the same offline mocks as the evaluation, so Outputs
 * resolve; the SDK's runtime is global to the process, so call it between evaluations.
 */
export async function resolveSecret<T>(make: () => pulumi.Output<T>): Promise<T> {
  await pulumi.runtime.setMocks(offlineMocks, "canfar-batch", "dev", false);
  const output = make();
  return new Promise<T>((resolve, reject) => {
    // A failing apply inside `make` never reaches this one: fail the test rather than wait.
    const timer = setTimeout(() => reject(new Error("resolveSecret: the Output never resolved (see the unhandled rejection)")), 10_000);
    output.apply((value) => {
      clearTimeout(timer);
      resolve(value);
      return value;
    });
  });
}
