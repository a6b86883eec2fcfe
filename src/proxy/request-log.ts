import { createWriteStream, type WriteStream } from "node:fs";
import { SERVICE_ATTRIBUTE } from "../core/slo/conventions.js";

/** One structured log line per request: the SLIs, the outcome, and the trace to find it by. */
export interface RequestLogLine {
  time: string;
  /** When the request arrived (wall clock, ms precision): what a replay schedules it by. */
  arrived_at?: string;
  /** The client's x-session-id header, when it sent one: conversations stay together in a replay. */
  session_id?: string;
  [SERVICE_ATTRIBUTE]: string;
  trace_id: string;
  span_id: string;
  method: string;
  route: string;
  model: string;
  status: number;
  outcome: string;
  ttft_ms?: number;
  tpot_ms?: number;
  e2e_ms: number;
  output_tokens?: number;
  /** Prompt tokens as the upstream's usage counted them. */
  input_tokens?: number;
  /** Opt-in: the prompt as salted block hashes (see prefix-hashes.ts). */
  hash_ids?: number[];
  error?: string;
}

/**
 * Lines wait at most this long (or until FLUSH_CHARS have gathered) and then go out in one
 * write. A file write is a round trip through libuv's thread pool, which wakes a thread and the
 * event loop: one per request cost the proxy, at 64 streams, about 6% of its CPU per request and
 * three futex calls.
 */
const FLUSH_MS = 100;
const FLUSH_CHARS = 64 * 1024;

/**
 * Writes JSON lines to a file or stdout. Only the fields above are ever written: headers (and so
 * Authorization and API keys) and bodies never reach the log. Lines are batched (see FLUSH_MS);
 * close() writes what is left.
 */
export class RequestLog {
  private readonly out: WriteStream | NodeJS.WriteStream;
  /** Lines not yet written (a string: V8 joins appends without copying until the write). */
  private pending = "";
  private timer?: NodeJS.Timeout;

  constructor(path?: string) {
    this.out = path ? createWriteStream(path, { flags: "a" }) : process.stdout;
    // A log that fails (a full disk, a removed folder) is reported once; the proxy keeps relaying.
    let told = false;
    this.out.on("error", (e: Error) => {
      if (told) return;
      told = true;
      process.stderr.write(
        `streamslo proxy: the request log failed (${e.message}); requests are still relayed\n`,
      );
    });
  }

  write(line: RequestLogLine): void {
    this.pending += `${JSON.stringify(line)}\n`;
    // The timer is not unref'd: a process that ends on its own still writes its last lines.
    if (this.pending.length >= FLUSH_CHARS) this.flush();
    else this.timer ??= setTimeout(this.flush, FLUSH_MS);
  }

  private readonly flush = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === "") return;
    this.out.write(this.pending);
    this.pending = "";
  };

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      if (this.out === process.stdout) resolve();
      else (this.out as WriteStream).end(() => resolve());
    });
  }
}
