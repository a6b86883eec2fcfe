import type { Dispatcher } from "undici";
import { classifyCompletion, classifyStream, verdictFor } from "../core/outcome.js";
import type { Phase, RequestError, RequestRecord } from "../core/record.js";
import { redactSecret, redactSummary } from "../core/redact.js";
import { MAX_EVENT_CHARS, StreamAccumulator, summarizeCompletion } from "../core/stream-accumulator.js";
import { type BodyDecoder, decoderFor } from "./body-decoder.js";
import type { Clock } from "./clock.js";
import type { GenerationDispatcher } from "./dispatcher.js";
import type { Endpoint } from "./endpoint.js";
import { isRedirect, type RedirectStep, redirectStep } from "./redirect.js";
import { errorMessage, transportErrorCode } from "./transport-errors.js";

export interface RequestMeta {
  id: string;
  scenario: string;
  phase: Phase;
  intendedStartMs: number;
}

export interface SendOptions {
  endpoint: Endpoint;
  stream: boolean;
  apiKey?: string;
  /** Time to response headers before giving up. */
  headersTimeoutMs: number;
  /** Longest silence between body bytes before giving up. */
  bodyTimeoutMs: number;
  /** Longest a whole request may take (a stream that never ends); undefined: no limit. */
  maxRequestMs?: number;
  /** Most body bytes one response may carry before it is cut (default 64 MiB). */
  maxResponseBytes?: number;
  keepText?: boolean;
  signal?: AbortSignal;
}

const ERROR_BODY_LIMIT = 4096;

/**
 * Bounds one response: a non-streamed body is buffered whole, and a stream's record grows with
 * every chunk (one SSE event is bounded apart, by MAX_EVENT_CHARS). 64 MiB is far above any real
 * answer (a 32k-token stream is under 10 MiB) and stops a server that floods tokens without end.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Pulls the server's own explanation out of an error body (OpenAI/vLLM JSON or plain text). */
function describeErrorBody(status: number, body: string): string {
  let detail = body.trim().slice(0, 200);
  try {
    const j = JSON.parse(body) as {
      error?: { message?: string } | string;
      message?: string;
      detail?: string;
    };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message ?? j.detail);
    if (typeof m === "string") detail = m;
  } catch {
    if (/^\s*</.test(detail)) detail = "an HTML page";
  }
  return detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
}

/**
 * Handles one response with undici's dispatch API, so each body buffer is timestamped in the
 * socket's data callback, before any stream or async-iterator machinery can delay it.
 */
class RecordingHandler implements Dispatcher.DispatchHandler {
  private acc?: StreamAccumulator;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private settled = false;
  private controller?: Dispatcher.DispatchController;
  private abortRequested = false;
  private abortWhy?: string;
  private bodyBytes = 0;
  /** Why the client itself ended the request early, when it did. */
  private cut?: RequestError;
  /** Set by a redirect answer: where to go next, or why not. */
  private redirect?: RedirectStep;
  /** Set when the server compressed the body although asked for identity. */
  private decoder?: BodyDecoder;

  constructor(
    private readonly rec: RequestRecord,
    private readonly clock: Clock,
    private readonly opts: SendOptions,
    private readonly done: (r: RequestRecord) => void,
    /** The URL this hop asked, and how many redirects led to it. */
    private readonly url: URL,
    private readonly hops: number,
    private readonly follow: (to: URL) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortRequested) this.abort(this.abortWhy);
    else if (this.cut) this.abortCut(this.cut);
  }

  /** Stops the request (Ctrl-C, or the level's end for a cool-down request); the record ends with code `aborted`. */
  abort(why = "aborted by the user"): void {
    this.abortRequested = true;
    this.abortWhy = why;
    this.controller?.abort(Object.assign(new Error(why), { name: "AbortError" }));
  }

  /** Ends a request that has run too long: its record ends `incomplete` with `request_timeout`. */
  expire(): void {
    this.cutShort({ code: "request_timeout", message: `longer than ${this.opts.maxRequestMs} ms` });
  }

  private cutShort(reason: RequestError): void {
    if (this.cut || this.settled) return;
    this.cut = reason;
    this.abortCut(reason);
  }

  private abortCut(reason: RequestError): void {
    this.controller?.abort(Object.assign(new Error(reason.message), { code: "STREAMSLO_CUT" }));
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined> = {},
  ): void {
    this.rec.headersMs = this.clock.now();
    this.rec.status = statusCode;
    if (isRedirect(statusCode)) {
      this.redirect = redirectStep(statusCode, headers.location, this.url, this.hops);
      return;
    }
    if (statusCode >= 200 && statusCode < 300 && this.opts.stream) {
      this.acc = new StreamAccumulator(this.opts.keepText);
    }
    const decoder = decoderFor(
      headers["content-encoding"],
      (d, t) => this.take(d, t),
      (err) =>
        this.finish(err && { code: "bad_encoding", message: `cannot decode the body: ${err.message}` }),
    );
    if (decoder === "unsupported")
      this.cutShort({
        code: "bad_encoding",
        message: `the body is in Content-Encoding ${String(headers["content-encoding"])}, which streamslo cannot decode (it asked for identity)`,
      });
    else this.decoder = decoder;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    const t = this.clock.now();
    if (this.cut || this.redirect) return;
    if (this.decoder) this.decoder.write(chunk, t);
    else this.take(chunk, t);
  }

  /** One piece of the body as the server meant it (decoded, if it was compressed), with its arrival time. */
  private take(chunk: Buffer, t: number): void {
    if (this.cut) return;
    this.bodyBytes += chunk.length;
    const limit = this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (this.bodyBytes > limit) {
      const mib = Number((limit / 1024 / 1024).toPrecision(3));
      this.cutShort({ code: "response_too_large", message: `response body passed the ${mib} MiB limit` });
      return;
    }
    if (this.acc) {
      this.acc.push(chunk, t);
      if (this.acc.summary.oversized) {
        const mib = MAX_EVENT_CHARS / 1024 / 1024;
        this.cutShort({ code: "response_too_large", message: `an SSE line or event over ${mib} MiB` });
      }
    } else if (this.partBytes < ERROR_BODY_LIMIT || this.isOkStatus()) {
      // A copy: the pool may hand over a view into its read buffer, valid only during this call.
      this.parts.push(Buffer.from(chunk));
      this.partBytes += chunk.length;
    }
  }

  onResponseEnd(): void {
    // The decoder finishes the request once it has given out the last of the body.
    if (this.decoder && !this.cut) this.decoder.end();
    else this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.decoder?.destroy();
    this.finish(err);
  }

  private isOkStatus(): boolean {
    const s = this.rec.status ?? 0;
    return s >= 200 && s < 300;
  }

  private finish(err?: Error | RequestError): void {
    if (this.settled) return;
    this.settled = true;
    const rec = this.rec;
    const now = this.clock.now();
    rec.endMs = now;
    const afterHeaders = rec.headersMs !== undefined;
    const broke: RequestError | undefined = err
      ? (this.cut ??
        (err instanceof Error
          ? { code: transportErrorCode(err, afterHeaders), message: errorMessage(err) }
          : err))
      : undefined;
    if (this.redirect && !broke) {
      if (this.redirect.kind === "follow") {
        rec.redirects ??= [];
        rec.redirects.push({ status: rec.status ?? 0, to: shownTarget(this.redirect.url) });
        this.follow(this.redirect.url);
      } else {
        Object.assign(rec, verdictFor(`http_${rec.status ?? 0}`, this.redirect.message));
        this.done(rec);
      }
      return;
    }

    if (!afterHeaders) {
      Object.assign(rec, verdictFor(broke?.code ?? "client_error", broke?.message ?? "no response"));
      this.done(rec);
      return;
    }
    if (!this.isOkStatus()) {
      const body = redactSecret(Buffer.concat(this.parts).toString("utf8"), this.opts.apiKey, true);
      Object.assign(rec, verdictFor(`http_${rec.status ?? 0}`, describeErrorBody(rec.status ?? 0, body)));
      this.done(rec);
      return;
    }
    // A body that broke off is classified by how it broke; its partial JSON is not parsed.
    const body = broke ? "" : Buffer.concat(this.parts).toString("utf8");
    const summary = this.acc
      ? this.acc.end(now, broke === undefined)
      : summarizeCompletion(body, now, this.opts.keepText);
    redactSummary(summary, [this.opts.apiKey]);
    rec.firstContentMs = summary.firstContentMs;
    rec.chunkTimesMs = summary.chunkTimesMs;
    rec.chunkTokens = summary.chunkTokens;
    rec.promptTokens = summary.promptTokens;
    rec.finishReason = summary.finishReason;
    if (summary.choices !== undefined) rec.choices = summary.choices;
    if (summary.text !== undefined) rec.text = summary.text;
    if (summary.completionTokens !== undefined) {
      rec.outputTokens = summary.completionTokens;
      rec.tokenSource = "usage";
    } else {
      let n = 0;
      for (const k of summary.chunkTokens) n += k;
      rec.outputTokens = n;
      rec.tokenSource = "chunks";
    }
    const verdict = this.acc
      ? classifyStream(summary, broke)
      : broke
        ? verdictFor(broke.code, broke.message)
        : classifyCompletion(summary);
    rec.outcome = verdict.outcome;
    if (verdict.error) rec.error = verdict.error;
    this.done(rec);
  }
}

/** A redirect's target as recorded: no credentials, no query (it may carry a key). */
function shownTarget(u: URL): string {
  return `${u.origin}${u.pathname}`;
}

/** Sends one generation request and resolves with its record; never rejects. */
export function sendGeneration(
  dispatcher: Pick<GenerationDispatcher, "dispatch">,
  clock: Clock,
  opts: SendOptions,
  body: string,
  meta: RequestMeta,
): Promise<RequestRecord> {
  const rec: RequestRecord = {
    id: meta.id,
    scenario: meta.scenario,
    phase: meta.phase,
    intendedStartMs: meta.intendedStartMs,
    startMs: clock.now(),
    chunkTimesMs: [],
    chunkTokens: [],
    tokenSource: "chunks",
    outcome: "error",
  };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: opts.stream ? "text/event-stream" : "application/json",
    // A compressing gateway would buffer a stream into blocks; a body compressed anyway is decoded.
    "accept-encoding": "identity",
  };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const first = new URL(opts.endpoint.path + opts.endpoint.query, opts.endpoint.origin);
  return new Promise((resolve) => {
    const signal = opts.signal;
    // A signal aborted with an Error of streamslo's own says why (a cool-down cut); any other is the user.
    const why = () => {
      const r: unknown = signal?.reason;
      return r instanceof Error && r.name !== "AbortError" ? r.message : undefined;
    };
    const onAbort = () => handler.abort(why());
    let limit: NodeJS.Timeout | undefined;
    const done = (r: RequestRecord) => {
      signal?.removeEventListener("abort", onAbort);
      clearTimeout(limit);
      resolve(r);
    };
    // Each hop of a redirect chain gets its own handler; the record, the timers and the start are the request's.
    const send = (url: URL, hops: number) => {
      handler = new RecordingHandler(rec, clock, opts, done, url, hops, (to) => send(to, hops + 1));
      if (signal?.aborted) handler.abort(why());
      // The key goes only where it was given: a redirect to another origin drops it, as fetch does.
      let hopHeaders = headers;
      if (url.origin !== first.origin) {
        const { authorization: _key, ...rest } = headers;
        hopHeaders = rest;
      }
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: "POST",
          headers: hopHeaders,
          body,
          headersTimeout: opts.headersTimeoutMs,
          bodyTimeout: opts.bodyTimeoutMs,
        },
        handler,
      );
    };
    let handler!: RecordingHandler;
    if (opts.maxRequestMs !== undefined) limit = setTimeout(() => handler.expire(), opts.maxRequestMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    send(first, 0);
  });
}
