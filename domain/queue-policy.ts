/**
 * Which of the campaign's exposures submit.sh queues, from one listing of the destination:
 * `changed` those with no catalogue by this pipeline identity (`ID.P.cat`), `missing` those
 * with no catalogue at all (any `ID.*.cat` or a hand-made `ID.cat`), `all` every one.
 */
export const QUEUE_POLICIES = ["changed", "missing", "all"] as const;
export type QueuePolicy = (typeof QUEUE_POLICIES)[number];
