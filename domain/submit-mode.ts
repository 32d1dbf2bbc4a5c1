/** The two canfar_submit generations (README, *Submitting*): `JOB IMAGE FLAVOR` and `JOB [IMAGE]`. */
export const SUBMIT_MODES = ["csv1", "csv2"] as const;
export type SubmitMode = (typeof SUBMIT_MODES)[number];
