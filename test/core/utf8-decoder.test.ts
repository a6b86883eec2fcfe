import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Utf8Decoder } from "../../src/core/utf8-decoder.js";

// `npm test` runs a seeded few hundred cases per property; `npm run fuzz` sets FUZZ_RUNS much higher.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const opts = { numRuns: RUNS, seed: SEED };

/** The text of `bytes` cut at `cuts`, by `decode` per piece and `flush` at the end. */
function pieces(bytes: Uint8Array, cuts: number[], decode: (b: Uint8Array) => string, flush: () => string) {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    out.push(decode(bytes.subarray(from, to)));
    from = to;
  }
  out.push(flush());
  return out;
}

function ours(bytes: Uint8Array, cuts: number[]): string[] {
  const d = new Utf8Decoder();
  return pieces(
    bytes,
    cuts,
    (b) => d.decode(b),
    () => d.flush(),
  );
}

function reference(bytes: Uint8Array, cuts: number[]): string[] {
  const d = new TextDecoder();
  return pieces(
    bytes,
    cuts,
    (b) => d.decode(b, { stream: true }),
    () => d.decode(),
  );
}

/** Bytes near UTF-8's edges: leads of every length, continuations, invalid leads, BOM, ASCII. */
const EDGE_BYTES = [
  0x41, 0x0a, 0x7f, 0x80, 0x9f, 0xa0, 0xbb, 0xbf, 0xc0, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4,
  0xf5, 0xff,
];
const edgy = fc.array(fc.constantFrom(...EDGE_BYTES), { maxLength: 64 });

describe(`Utf8Decoder against TextDecoder's stream mode (${RUNS} cases per property, seed ${SEED})`, () => {
  it("gives the same whole text for arbitrary bytes cut anywhere, invalid UTF-8 included", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          edgy.map((a) => Uint8Array.from(a)),
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          assert.equal(ours(bytes, cuts).join(""), reference(bytes, cuts).join(""));
        },
      ),
      opts,
    );
  });

  it("gives the same text piece by piece for valid UTF-8", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "é", "✓", "𝄞", "\n", "日", "\uFEFF"),
      maxLength: 40,
    });
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), (s, cuts) => {
        const bytes = new TextEncoder().encode(s);
        assert.deepEqual(ours(bytes, cuts), reference(bytes, cuts));
      }),
      opts,
    );
  });

  it("drops a byte-order mark only at the start of the stream, even when it comes split", () => {
    const bom = [0xef, 0xbb, 0xbf];
    const bytes = Uint8Array.from([...bom, 0x61, ...bom, 0x62]);
    for (const cuts of [[], [1], [2], [1, 2], [3], [4, 5]]) {
      assert.equal(ours(bytes, cuts).join(""), "a\uFEFFb", `cuts ${cuts.join(",")}`);
    }
  });
});
