/**
 * Finds where the audio starts in a streamed WAV response: RIFF/WAVE, then chunks ("fmt ", "LIST",
 * ...) up to "data", however the header is split across body chunks. Its length is not fixed at 44
 * bytes (ffmpeg adds a LIST chunk, for one). A body that does not start as RIFF/WAVE is all audio
 * (raw PCM). Pure: bytes in, counts out. Format reference: the RIFF WAVE chunk layout.
 */

/** A header this long with no "data" chunk yet is not a WAV header this reader can use. */
const MAX_HEADER = 64 * 1024;
const RIFF = Buffer.from("RIFF", "latin1");

type Located = { dataOffset: number; byteRate?: number } | "more" | "not-wav";

function locate(buf: Buffer): Located {
  const head = Math.min(4, buf.length);
  if (!buf.subarray(0, head).equals(RIFF.subarray(0, head))) return "not-wav";
  if (buf.length < 12) return "more";
  if (buf.toString("latin1", 8, 12) !== "WAVE") return "not-wav";
  let byteRate: number | undefined;
  let at = 12;
  for (;;) {
    if (at + 8 > buf.length) return "more";
    const id = buf.toString("latin1", at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === "data") return { dataOffset: at + 8, byteRate };
    if (id === "fmt ") {
      if (at + 20 > buf.length) return "more";
      const rate = buf.readUInt32LE(at + 16); // fmt body offset 8: bytes per second
      byteRate = rate > 0 ? rate : undefined;
    }
    at += 8 + size + (size % 2); // chunks are word-aligned
  }
}

export class WavStreamHeader {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private done = false;
  /** Bytes per second from the "fmt " chunk, once the header has been read. */
  byteRate?: number;

  /** Takes the next body chunk; returns how many bytes, at its end, are audio. */
  feed(chunk: Buffer): number {
    if (this.done) return chunk.length;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const buf = this.held.length === 1 ? chunk : Buffer.concat(this.held, this.heldBytes);
    const found = locate(buf);
    if (found === "more" && buf.length <= MAX_HEADER) return 0;
    this.release();
    if (typeof found === "object") {
      this.byteRate = found.byteRate;
      return buf.length - found.dataOffset;
    }
    return buf.length; // not WAV, or no "data" within bounds: all of it is audio
  }

  /** At the body's end: bytes still held are audio unless they begin a WAV header (one cut short). */
  end(): number {
    if (this.done) return 0;
    const buf = Buffer.concat(this.held, this.heldBytes);
    this.release();
    return locate(buf) === "not-wav" ? buf.length : 0;
  }

  private release(): void {
    this.done = true;
    this.held = [];
    this.heldBytes = 0;
  }
}
