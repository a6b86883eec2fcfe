import type { ErrorCode, Outcome, RequestError } from "./record.js";
import { MAX_EVENT_CHARS, type StreamSummary } from "./stream-accumulator.js";

export interface Verdict {
  outcome: Outcome;
  error?: RequestError;
}

/** Error codes that mean the stream broke part-way rather than failed outright. */
const INCOMPLETE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "stream_dropped",
  "stream_reset",
  "body_timeout",
  "request_timeout",
  "drain_cut",
]);

/**
 * A 4xx answer other than 429: the request was wrong (bad JSON, unknown model, bad key), so it says
 * nothing about the service. Production SLIs leave it out, as Sloth's and Pyrra's 5xx-only error
 * queries do; 429 is the service refusing load, so it counts.
 */
export function isClientFault(code: ErrorCode | undefined): boolean {
  return code !== undefined && /^http_4\d\d$/.test(code) && code !== "http_429";
}

export function verdictFor(code: ErrorCode, message: string): Verdict {
  const outcome = code === "aborted" ? "aborted" : INCOMPLETE_CODES.has(code) ? "incomplete" : "error";
  return { outcome, error: { code, message } };
}

function looksLikeHtml(head: string): boolean {
  return /^\s*<(!doctype|html|head|body)/i.test(head);
}

/**
 * Classifies a finished 2xx streaming body. `broke` is the transport error that ended the body
 * early, if any. Order matters: an in-band error wins over a drop, and garbage over silence.
 */
export function classifyStream(s: StreamSummary, broke?: { code: ErrorCode; message: string }): Verdict {
  if (s.errorMessage !== undefined) return verdictFor("stream_error", s.errorMessage);
  if (s.oversized) {
    return verdictFor("response_too_large", `an SSE line or event over ${MAX_EVENT_CHARS / 1024 / 1024} MiB`);
  }
  if (s.events === 0) {
    if (broke) return verdictFor(broke.code, broke.message);
    if (s.bodyBytes === 0) return verdictFor("empty_response", "HTTP 200 with an empty body");
    const what = looksLikeHtml(s.head) ? "an HTML page" : `"${s.head.slice(0, 60).replace(/\s+/g, " ")}"`;
    return verdictFor("not_sse", `expected an SSE stream, got ${what}`);
  }
  if (s.invalidEvents > 0) return verdictFor("invalid_json", `${s.invalidEvents} event(s) were not JSON`);
  const finished = s.sawDone || s.finishReason !== undefined;
  if (!finished) {
    if (broke) return verdictFor(broke.code, broke.message);
    return verdictFor("stream_dropped", "stream ended before [DONE] or a finish_reason");
  }
  if (s.chunkTimesMs.length === 0) return verdictFor("empty_response", "stream finished without any content");
  return { outcome: "ok" };
}

/** Classifies a finished 2xx non-streaming body. */
export function classifyCompletion(s: StreamSummary): Verdict {
  if (s.errorMessage !== undefined) return verdictFor("stream_error", s.errorMessage);
  if (s.bodyBytes === 0) return verdictFor("empty_response", "HTTP 200 with an empty body");
  if (s.invalidEvents > 0) {
    const what = looksLikeHtml(s.head) ? "an HTML page" : "a body that is not JSON";
    return verdictFor("invalid_json", `expected a JSON completion, got ${what}`);
  }
  if (s.chunkTimesMs.length === 0) return verdictFor("empty_response", "completion has no content");
  return { outcome: "ok" };
}
