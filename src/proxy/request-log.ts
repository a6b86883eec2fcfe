import { createWriteStream, type WriteStream } from "node:fs";
import { SERVICE_ATTRIBUTE } from "../core/slo/conventions.js";

/** One structured log line per request: the SLIs, the outcome, and the trace to find it by. */
export interface RequestLogLine {
  time: string;
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
  error?: string;
}

/**
 * Writes JSON lines to a file or stdout. Only the fields above are ever written: headers (and so
 * Authorization and API keys) and bodies never reach the log.
 */
export class RequestLog {
  private readonly out: WriteStream | NodeJS.WriteStream;

  constructor(path?: string) {
    this.out = path ? createWriteStream(path, { flags: "a" }) : process.stdout;
  }

  write(line: RequestLogLine): void {
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.out === process.stdout) resolve();
      else (this.out as WriteStream).end(() => resolve());
    });
  }
}
