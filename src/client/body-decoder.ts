import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate, constants as z } from "node:zlib";

/**
 * Decodes a response body a server compressed although it was asked for `identity` (RFC 9110
 * section 8.4). Each decoded piece carries the arrival time of the compressed bytes it came from,
 * so a compressed stream is timed as it reached the socket, not as zlib's thread pool got to it.
 */
export class BodyDecoder {
  /** Arrival times of the compressed chunks written and not yet decoded, oldest first. */
  private readonly times: number[] = [];
  private lastTime = 0;
  private readonly stream: Transform;
  private done = false;

  constructor(stream: Transform, onData: (chunk: Buffer, t: number) => void, onEnd: (err?: Error) => void) {
    this.stream = stream;
    // zlib emits a chunk's output before the callback of its write, so times[0] is its source.
    stream.on("data", (d: Buffer) => onData(d, this.times[0] ?? this.lastTime));
    stream.once("end", () => this.settle(onEnd));
    stream.once("error", (err) => this.settle(onEnd, err));
  }

  private settle(onEnd: (err?: Error) => void, err?: Error): void {
    if (this.done) return;
    this.done = true;
    onEnd(err);
  }

  write(chunk: Buffer, t: number): void {
    if (this.done) return;
    this.times.push(t);
    this.lastTime = t;
    // A copy: the pool may hand over a view into its read buffer, valid only during this call.
    this.stream.write(Buffer.from(chunk), () => this.times.shift());
  }

  end(): void {
    if (!this.done) this.stream.end();
  }

  destroy(): void {
    this.done = true;
    this.stream.destroy();
  }
}

/**
 * A decoder for a Content-Encoding, "unsupported" for one streamslo cannot decode, undefined for
 * none (or identity). A truncated stream still yields what it carried (SYNC_FLUSH at its end).
 */
export function decoderFor(
  encoding: string | string[] | undefined,
  onData: (chunk: Buffer, t: number) => void,
  onEnd: (err?: Error) => void,
): BodyDecoder | "unsupported" | undefined {
  const e = (Array.isArray(encoding) ? encoding.join(",") : (encoding ?? "")).trim().toLowerCase();
  if (e === "" || e === "identity") return undefined;
  const flush = { flush: z.Z_SYNC_FLUSH, finishFlush: z.Z_SYNC_FLUSH };
  let stream: Transform;
  if (e === "gzip" || e === "x-gzip") stream = createGunzip(flush);
  else if (e === "deflate") stream = createInflate(flush);
  else if (e === "br")
    stream = createBrotliDecompress({
      flush: z.BROTLI_OPERATION_FLUSH,
      finishFlush: z.BROTLI_OPERATION_FLUSH,
    });
  else return "unsupported";
  return new BodyDecoder(stream, onData, onEnd);
}
