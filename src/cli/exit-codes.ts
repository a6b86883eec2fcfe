/** Process exit codes (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  endpoint: 3,
  /** A level in which not one measured request succeeded: nothing was measured. */
  noSuccess: 4,
  /** The verdict rests on a measurement the client itself limited (invalid): no verdict. */
  invalid: 5,
  interrupted: 130,
  sloFailed: 99,
} as const;

/** A mistake of the user's: printed as one line, exit 2, before any load is sent. */
export class UsageError extends Error {}

/** The endpoint cannot be reached or is not what it claims: one line, exit 3. */
export class EndpointError extends Error {}
