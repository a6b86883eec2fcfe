/**
 * UTF-8 bytes that arrive in pieces, as text, the same as TextDecoder in stream mode gives
 * (U+FFFD for invalid bytes, a leading byte-order mark dropped), but several times faster.
 *
 * Why not TextDecoder's stream mode: in Node 20 it goes through ICU and returns two-byte strings,
 * which also slows every string operation after it. At 2 KiB per buffer we measured 2.34 us per
 * decode, against 0.33 us for a whole-buffer decode, which takes the fast path and returns
 * one-byte strings for ASCII. So each buffer is decoded whole, up to the start of a multi-byte
 * sequence that it cuts off; those few bytes wait for the next buffer.
 *
 * Same text: the held-back bytes start at a byte that is not a continuation byte, and a UTF-8
 * decoder (WHATWG Encoding, "UTF-8 decoder") starts afresh at such a byte whatever came before,
 * so decoding up to it and from it gives what decoding across it gives.
 */
export class Utf8Decoder {
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  /** The start of a sequence cut off at the end of the last buffer (at most 3 bytes). */
  private held?: Uint8Array;
  private started = false;

  /** The text of `bytes`, less a cut-off sequence at its end, which joins the next call. */
  decode(bytes: Uint8Array): string {
    let b = bytes;
    if (this.held) {
      b = new Uint8Array(this.held.length + bytes.length);
      b.set(this.held);
      b.set(bytes, this.held.length);
      this.held = undefined;
    }
    const end = completeEnd(b);
    if (end < b.length) this.held = b.slice(end);
    return this.start(this.decoder.decode(end === b.length ? b : b.subarray(0, end)));
  }

  /** What is still held, as text (U+FFFD for the unfinished sequence); the stream is over. */
  flush(): string {
    const held = this.held;
    this.held = undefined;
    return held ? this.start(this.decoder.decode(held)) : "";
  }

  /** Drops a byte-order mark at the very start of the stream, as TextDecoder does by default. */
  private start(text: string): string {
    if (this.started || text.length === 0) return text;
    this.started = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/**
 * Where the last multi-byte sequence of `b` starts when `b` ends before the sequence's length
 * (its lead byte says how long it is); else `b.length`. Only the last 3 bytes can hold such a start.
 */
export function completeEnd(b: Uint8Array): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const c = b[i] as number;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return i + length > n ? i : n;
  }
  return n;
}
