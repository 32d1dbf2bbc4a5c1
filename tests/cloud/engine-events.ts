/**
 * What the engine's step events say a `pulumi up` changed, as `npm run preview` counts it:
 * one entry per logical step (`op urn`). The engine sends a step's `logical` only when it is
 * true (apitype.StepEventMetadata, `json:"logical,omitempty"`): the create-replacement and
 * delete-replaced steps of a replacement come without it and are not counted, or a
 * replacement would count three times.
 */
export interface StepMetadata {
  op: string;
  urn: string;
  logical?: boolean;
}

export function logicalChanges(events: ReadonlyArray<StepMetadata | undefined>): string[] {
  return events.filter((m): m is StepMetadata => m !== undefined && m.op !== "same" && m.logical === true).map((m) => `${m.op} ${m.urn}`);
}
