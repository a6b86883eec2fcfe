import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ChunkReader } from "../../src/core/chunk-frame.js";
import { interpretChunk } from "../../src/core/openai-chunk.js";

// `npm test` runs a seeded few hundred sequences; `npm run fuzz` sets FUZZ_RUNS much higher.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

const vllm = (content: string, finish: string | null = null) =>
  `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]}`;

/** Reads each payload with one reader and checks it against interpretChunk, the full parse. */
function readsAsFullParse(payloads: string[]): void {
  const reader = new ChunkReader();
  for (const p of payloads) assert.deepEqual(reader.read(p), interpretChunk(p), p);
}

describe("ChunkReader: chunks in the last one's frame", () => {
  it("reads a vLLM stream as the full parse does, escapes and finish included", () => {
    readsAsFullParse([
      `{"id":"chatcmpl-7","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
      vllm("Once"),
      vllm(" upon"),
      vllm(""),
      vllm('a "quoted"\nline\\ with \u0001 and é ✓ 𝄞'),
      vllm(" a\ttime"),
      vllm("", "stop"),
      "[DONE]",
    ]);
  });

  it("calls garbage in a chunk's frame what the full parse calls it", () => {
    const frame = vllm("x");
    const [head, tail] = frame.split('"x"') as [string, string];
    readsAsFullParse([
      frame,
      `${head}"a"b"${tail}`, // a bare quote ends the string early
      frame,
      `${head}"a\u0001b"${tail}`, // a raw control character
      frame,
      `${head}"a\\qb"${tail}`, // no such escape
      frame,
      `${head}"a\\u12"${tail}`, // short \u escape
      frame,
      `${head}"ab\\"${tail}`, // the last backslash escapes the closing quote
      frame,
      `${head}"ab"${tail}}`, // one brace too many: not the frame's end
      frame,
      `${head}"ab"${tail.slice(0, -1)}`, // cut short
      frame,
      ` ${head}"ab"${tail} `, // the frame with space around it: parsed in full, still fine
    ]);
  });

  it("keeps no frame where the text does not come from the one content string", () => {
    // Each case varies `delta.content` while another source of text, or another string-valued
    // "content" key, stays the same: a frame taken there would read the wrong text.
    const cases: ((c: string) => string)[] = [
      (c) => `{"choices":[{"delta":{"content":${JSON.stringify(c)},"reasoning_content":"r"}}]}`,
      (c) => `{"choices":[{"delta":{"content":${JSON.stringify(c)},"reasoning":"r"}}]}`,
      (c) =>
        `{"choices":[{"delta":{"content":${JSON.stringify(c)},"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}}]}`,
      (c) => `{"choices":[{"text":"t","delta":{"content":${JSON.stringify(c)}}}]}`,
      (c) => `{"choices":[{"delta":{"content":${JSON.stringify(c)}},"message":{"content":"m"}}]}`,
      (c) => `{"choices":[{"delta":{"content":"a"}},{"delta":{"content":${JSON.stringify(c)}}}]}`,
      (c) => `{"choices":[{"delta":{"content":${JSON.stringify(c)}}}],"meta":{"content":"k"}}`,
      (c) => `{"\\"content":"k","choices":[{"delta":{"content":${JSON.stringify(c)}}}]}`,
      // Keys spelled with escapes: the raw text shows another "content" key, or none.
      (c) => `{"\\"content":${JSON.stringify(c)},"choices":[{"delta":{"\\u0063ontent":"d"}}]}`,
      (c) => `{"meta":{"content":${JSON.stringify(c)}},"choices":[{"delta":{"\\u0063ontent":"d"}}]}`,
      (c) => `{"choices": [{"delta": {"content": ${JSON.stringify(c)}}, "logprobs": null}]}`,
    ];
    for (const make of cases) readsAsFullParse([make("a"), make("b"), make(""), make("c")]);
  });

  it(`reads any mix of framed, changed and broken chunks as the full parse does (${RUNS} sequences, seed ${SEED})`, () => {
    const text = fc.string({
      unit: fc.constantFrom("a", " ", '"', "\\", "\n", "\u0000", "é", "𝄞", "/"),
      maxLength: 8,
    });
    const frames = [
      (c: string) => vllm(c),
      (c: string) => vllm(c, "length"),
      (c: string) =>
        `{"choices":[{"delta":{"content":${JSON.stringify(c)}},"logprobs":{"content":[{"token":"a"}]}}]}`,
      (c: string) =>
        `{"choices":[{"delta":{"content": ${JSON.stringify(c)}}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
      (c: string) =>
        `{"choices":[{"delta":{"content":${JSON.stringify(c)},"tool_calls":[{"function":{"arguments":"{}"}}]}}]}`,
      (c: string) => `{"error":{"message":${JSON.stringify(c)}},"choices":[{"delta":{"content":"x"}}]}`,
    ];
    // A raw edit of the rendered chunk: most break it, some keep it valid JSON in another shape.
    const edit = fc.oneof(
      fc.constant((s: string) => s),
      fc.constant((s: string) => s),
      fc
        .record({
          at: fc.nat(),
          cut: fc.nat({ max: 3 }),
          put: fc.constantFrom("", '"', "\\", "}", ",", "\u0001", "x"),
        })
        .map(({ at, cut, put }) => (s: string) => {
          const i = at % (s.length + 1);
          return s.slice(0, i) + put + s.slice(i + cut);
        }),
    );
    const chunk = fc
      .tuple(fc.nat({ max: frames.length - 1 }), text, edit)
      .map(([f, c, e]) => e((frames[f] as (c: string) => string)(c)));
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (payloads) => readsAsFullParse(payloads)),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
