/** One request as measured: raw timestamps only; every metric is derived from these. */

/**
 * `aborted`: in flight when the run was stopped (Ctrl-C, or a cool-down request at a level's end);
 * recorded, and counted in none of ok, error and incomplete.
 */
export type Outcome = "ok" | "error" | "incomplete" | "aborted";
export type TokenSource = "usage" | "tokenizer" | "chunks";
export type Phase = "warmup" | "measure" | "cooldown" | "baseline";

/**
 * Stable error codes. `http_<status>` covers any non-2xx status (e.g. `http_503`).
 * Codes that make a request `incomplete` rather than `error`: stream_dropped, stream_reset,
 * body_timeout, request_timeout (see core/outcome.ts), and for speech streams ws_closed (the
 * connection closed before the final transcript).
 */
export type ErrorCode =
  | `http_${number}`
  | "connect_refused"
  | "connect_timeout"
  | "connect_reset"
  | "dns_failed"
  | "tls_failed"
  | "headers_timeout"
  | "body_timeout"
  | "request_timeout"
  | "stream_dropped"
  | "stream_reset"
  | "stream_error"
  | "empty_response"
  | "not_sse"
  | "not_audio"
  | "invalid_json"
  | "response_too_large"
  | "bad_encoding"
  | "drain_cut"
  | "aborted"
  | "ws_closed"
  | "ws_error"
  | "server_busy"
  | "server_error"
  | "client_error";

export interface RequestError {
  code: ErrorCode;
  message: string;
}

export interface RequestRecord {
  id: string;
  /** Load level this request belongs to, e.g. "c=4" or "rate=2.5". */
  scenario: string;
  phase: Phase;
  /** When the schedule wanted to send it; equals startMs in closed loop. */
  intendedStartMs: number;
  startMs: number;
  connectMs?: number;
  headersMs?: number;
  /** First chunk whose delta carries non-empty content (never the role-only chunk). */
  firstContentMs?: number;
  /** Arrival time and token count of each content chunk. */
  chunkTimesMs: number[];
  chunkTokens: number[];
  /** Stream end: [DONE], or close of the body. */
  endMs?: number;
  promptTokens?: number;
  outputTokens?: number;
  tokenSource: TokenSource;
  status?: number;
  finishReason?: string;
  outcome: Outcome;
  error?: RequestError;
  /** A multi-turn session's id, and this request's turn in it (1-based). */
  session?: string;
  turn?: number;
  /** The session's last turn: with it ok, the session is whole. */
  lastTurn?: boolean;
  /** How many choices the answer carried when more than one (n > 1); the figures are choice 0's. */
  choices?: number;
  /** Redirects (307/308) followed before the answer, each with its status and target (no query). */
  redirects?: { status: number; to: string }[];
  /** Output text, kept only when asked for (output checks); off by default to keep records small. */
  text?: string;
  /** Verdict against the per-request SLO criteria, when an SLO is given. */
  slo?: { good: boolean; missed: string[]; quality?: boolean };
}
