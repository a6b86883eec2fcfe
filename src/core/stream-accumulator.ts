import { createParser, type EventSourceParser } from "eventsource-parser";
import { ChunkReader } from "./chunk-frame.js";
import { interpretChunk } from "./openai-chunk.js";
import { Utf8Decoder } from "./utf8-decoder.js";

/** What one response body said, with the arrival time of each content chunk. */
export interface StreamSummary {
  firstContentMs?: number;
  chunkTimesMs: number[];
  chunkTokens: number[];
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
  sawDone: boolean;
  /** Message of the first in-band error event, if any. */
  errorMessage?: string;
  invalidEvents: number;
  /** An unfinished line or event outgrew the accumulator's bound; parsing stopped there. */
  oversized?: boolean;
  events: number;
  bodyBytes: number;
  /** The first bytes of the body as text, to say what a non-SSE answer was. */
  head: string;
  text?: string;
  /** Choices the stream carried when more than one (n > 1): only index 0 is measured. */
  choices?: number;
}

const HEAD_CHARS = 160;

/**
 * The most of one unfinished SSE line or event the parser holds. Real chunks are a few KiB; a
 * server that sends one line without end would otherwise take all memory.
 */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Turns the bytes of an OpenAI-compatible SSE body into a StreamSummary. Pure: the caller passes
 * the arrival time of each buffer, so the same code serves the bench client and the proxy.
 * SSE framing (CR, LF, CRLF, comments, split lines) is eventsource-parser's job; UTF-8 split
 * across buffers is Node's StringDecoder's (in Utf8Decoder).
 */
export class StreamAccumulator {
  readonly summary: StreamSummary = {
    chunkTimesMs: [],
    chunkTokens: [],
    sawDone: false,
    invalidEvents: 0,
    events: 0,
    bodyBytes: 0,
    head: "",
  };
  private readonly decoder = new Utf8Decoder();
  private readonly parser: EventSourceParser;
  private readonly chunks = new ChunkReader();
  private now = 0;
  /** Whether any chunk said how many tokens it carries (logprobs). */
  private counted = false;
  /** Whether any reasoning text was streamed, and the reasoning tokens the usage counts. */
  private reasoningStreamed = false;
  private reasoningTokens = 0;

  /** Past `maxEventChars` in one unfinished line or event, the summary is `oversized` and parsing stops. */
  constructor(
    private readonly keepText = false,
    maxEventChars = MAX_EVENT_CHARS,
  ) {
    if (keepText) this.summary.text = "";
    this.parser = createParser({
      onEvent: (event) => this.onData(event.data),
      onError: (err) => {
        if (err.type === "max-buffer-size-exceeded") this.summary.oversized = true;
      },
      maxBufferSize: maxEventChars,
    });
  }

  push(bytes: Uint8Array, nowMs: number): void {
    this.now = nowMs;
    this.summary.bodyBytes += bytes.length;
    const text = this.decoder.decode(bytes);
    if (this.summary.head.length < HEAD_CHARS) {
      this.summary.head = (this.summary.head + text).slice(0, HEAD_CHARS);
    }
    // Once over its bound the parser refuses input: the bytes are counted, no longer parsed.
    if (!this.summary.oversized) this.parser.feed(text);
  }

  /**
   * Call once when the body ends. After a clean end, what is left is flushed: a final event
   * without its blank line still counts (some servers omit the last "\n\n"). After a break
   * (`clean` false) it is dropped: an event cut off mid-way is not the server's garbage.
   */
  end(nowMs: number, clean = true): StreamSummary {
    this.now = nowMs;
    if (clean && !this.summary.oversized) {
      const rest = this.decoder.flush();
      if (rest) this.parser.feed(rest);
      this.parser.feed("\n\n");
    }
    // Usage counts every choice's tokens: with n > 1 choice 0's are the chunks it streamed.
    if (this.summary.choices !== undefined) this.summary.completionTokens = undefined;
    this.spreadUsage();
    return this.summary;
  }

  /**
   * Without logprobs a content chunk counts as one token. A server that packs several tokens per
   * chunk (vLLM's --stream-interval, a batching gateway) then shows far fewer chunks than its usage
   * counts; the usage is spread evenly over the chunks, so per-token ITL, fluidity and token rates
   * agree with it. Only when it is at least 1.5 tokens per chunk: a usage one or two over the chunk
   * count (an end-of-sequence token, a chunk without text) is not packing.
   */
  private spreadUsage(): void {
    const s = this.summary;
    const n = s.chunkTokens.length;
    const usage = s.completionTokens;
    // Reasoning tokens a server counts but does not stream (OpenAI's o-series) are no packing.
    const visible = usage !== undefined && !this.reasoningStreamed ? usage - this.reasoningTokens : usage;
    if (this.counted || visible === undefined || n < 2 || visible < 1.5 * n) return;
    // As a server streaming every k tokens sends them (vLLM's --stream-interval): the first token
    // alone, then k per chunk, what is left in the last.
    const rest = visible - 1;
    const base = Math.floor(rest / (n - 1));
    let extra = rest - base * (n - 1);
    s.chunkTokens[0] = 1;
    for (let i = 1; i < n; i++, extra--) s.chunkTokens[i] = base + (extra > 0 ? 1 : 0);
  }

  private onData(data: string): void {
    const s = this.summary;
    s.events++;
    if (s.sawDone) return;
    const info = this.chunks.read(data);
    switch (info.kind) {
      case "done":
        s.sawDone = true;
        return;
      case "invalid":
        s.invalidEvents++;
        return;
      case "error":
        s.errorMessage ??= info.errorMessage;
        return;
    }
    if (info.text.length > 0) {
      if (s.firstContentMs === undefined) s.firstContentMs = this.now;
      s.chunkTimesMs.push(this.now);
      if (info.tokens > 0) this.counted = true;
      if (info.reasoning) this.reasoningStreamed = true;
      s.chunkTokens.push(info.tokens > 0 ? info.tokens : 1);
      if (this.keepText) s.text += info.text;
    }
    if (info.otherChoice !== undefined && info.otherChoice + 1 > (s.choices ?? 1))
      s.choices = info.otherChoice + 1;
    if (info.finishReason !== undefined) s.finishReason = info.finishReason;
    if (info.promptTokens !== undefined) s.promptTokens = info.promptTokens;
    if (info.completionTokens !== undefined) s.completionTokens = info.completionTokens;
    if (info.reasoningTokens !== undefined) this.reasoningTokens = info.reasoningTokens;
  }
}

/**
 * The StreamSummary of a whole non-streaming response body received at `nowMs`. The answer comes
 * whole, so it has an end (E2E) but no first token apart from it: no TTFT, and so no TPOT, rather
 * than a TTFT equal to E2E and a TPOT of 0 that would pass for streaming figures.
 */
export function summarizeCompletion(body: string, nowMs: number, keepText = false): StreamSummary {
  const s: StreamSummary = {
    chunkTimesMs: [],
    chunkTokens: [],
    sawDone: true,
    invalidEvents: 0,
    events: body.length > 0 ? 1 : 0,
    bodyBytes: Buffer.byteLength(body),
    head: body.slice(0, HEAD_CHARS),
  };
  if (body.length === 0) return s;
  const info = interpretChunk(body);
  if (info.kind === "invalid") s.invalidEvents = 1;
  else if (info.kind === "error") s.errorMessage = info.errorMessage;
  else if (info.text.length > 0) {
    s.chunkTimesMs.push(nowMs);
    s.chunkTokens.push(info.completionTokens ?? 1);
    if (keepText) s.text = info.text;
  }
  if (info.finishReason !== undefined) s.finishReason = info.finishReason;
  if (info.promptTokens !== undefined) s.promptTokens = info.promptTokens;
  // With n > 1 the usage counts every choice's tokens, not choice 0's.
  if (info.otherChoice !== undefined) {
    s.choices = info.otherChoice + 1;
    s.chunkTokens[0] = 1;
  } else if (info.completionTokens !== undefined) s.completionTokens = info.completionTokens;
  return s;
}
