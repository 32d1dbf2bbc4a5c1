import { z } from "zod";
import { isSystemAccount } from "../../domain/user-name";
import { isVospacePath } from "../../domain/vospace";
import { QUEUE_POLICIES } from "../../domain/queue-policy";
import { DEFAULTS } from "../defaults";
import { code, type KeyGroup } from "./key-spec";
import { CADC_USER, listOf } from "./parsers";

/** CADC and the catalogues: the account, where catalogues go, and which exposures make them. */
export const CADC_KEYS = {
  cadcUser: {
    parser: z
      .string()
      .regex(CADC_USER, { error: "expected a CADC user name: lowercase letters, digits, '_' or '-', at most 32, not starting with a digit" })
      .refine((v) => !isSystemAccount(v), { error: "is a system account of the image (root, nobody, ...): choose your own CADC user name" }),
    kind: "text",
    placeholder: { value: "astronomer", instead: "your CADC user name" },
    reference: { what: "CADC user name: created on the VM, used for CADC and VOSpace", changes: ["starts-build-vm", "provisioning-from:create-user", "new-image", "no-requeue"] },
  },
  cadcPassword: {
    parser: z
      .string()
      .min(1, { error: "expected the CADC password, not an empty value" })
      // ~/.netrc separates fields by white space and has no portable quoting.
      .regex(/^[^\s'"\\]+$/, { error: "contains white space, a quote or a backslash, which ~/.netrc cannot hold; change the CADC password" }),
    kind: "text",
    secret: true,
    reference: { what: "CADC password: `~/.netrc` on the VM, for `cadc-get-cert`; on the batch host only while the jobs' certificate is made", changes: ["starts-build-vm", "provisioning-steps:cadc-credentials", "new-certificate", "resubmit-same"] },
  },
  vospace: {
    parser: z.string().refine(isVospacePath, { error: "expected a VOSpace path such as vos:myuser/catalogues (letters, digits, '_', '.', '+', '-' between slashes, no '..')" }),
    kind: "text",
    placeholder: { value: "vos:astronomer/catalogues", instead: "your VOSpace folder (vos:<your CADC user>/...)" },
    reference: { what: "VOSpace folder the catalogues are uploaded to (`vos:...`)", changes: ["new-submission"] },
  },
  observationIds: {
    parser: listOf(z.string(), "CFHT exposure IDs")
      .refine((l) => l.length > 0, { error: "expected at least one exposure ID (remove the key to process the tutorial's four)" })
      .default([...DEFAULTS.observationIds]),
    kind: "list",
    reference: { what: "CFHT exposure IDs to process, one job each (list); conflicts with `observationIdsFile`", default: code(DEFAULTS.observationIds.join(", ")), changes: ["new-submission"], note: "one exposure added here: only it is queued" },
  },
  observationIdsFile: {
    parser: z
      .string()
      .min(1, { error: "expected a file of exposure IDs, e.g. surveys/w3.txt" })
      .max(4096, { error: "expected a file path of at most 4096 characters" })
      .optional(),
    kind: "text",
    reference: { what: "a file of CFHT exposure IDs, one a line, `#` comments (a survey's list), relative to the project directory; conflicts with `observationIds`", default: "unset: `observationIds`", changes: ["new-submission"], note: "one exposure added here: only it is queued" },
  },
  queuePolicy: {
    parser: z.enum(QUEUE_POLICIES, { error: `expected one of ${QUEUE_POLICIES.join(", ")}` }).default("changed"),
    kind: "text",
    reference: { what: "which exposures a submission queues: `changed` (no catalogue by this pipeline identity), `missing` (no catalogue at all) or `all` (see *Campaigns*)", default: code("changed"), changes: ["requeue-all"], note: "to all here; to missing, nothing is re-queued" },
  },
} satisfies KeyGroup;
