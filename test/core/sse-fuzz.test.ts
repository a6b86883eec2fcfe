import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { classifyStream } from "../../src/core/outcome.js";
import { StreamAccumulator } from "../../src/core/stream-accumulator.js";

// `npm test` runs a seeded few hundred cases per property; `npm run fuzz` sets FUZZ_RUNS much higher.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const opts = { numRuns: RUNS, seed: SEED };

const enc = new TextEncoder();
const eol = fc.constantFrom("\n", "\r\n", "\r");

/** Feeds bytes cut at the given (sorted, in-range) positions; returns the accumulator's summary. */
function feed(bytes: Uint8Array, cuts: number[]) {
  const acc = new StreamAccumulator(true);
  let from = 0;
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  points.forEach((to, i) => {
    acc.push(bytes.subarray(from, to), i);
    from = to;
  });
  acc.push(bytes.subarray(from), points.length);
  return acc.end(points.length + 1);
}

const piece = fc.string({
  unit: fc.constantFrom("a", "é", "✓", "𝄞", " ", '"', "\\", "\n", "日"),
  maxLength: 12,
});

/** A well-formed stream: optional comments and role chunk, content chunks, finish, [DONE]. */
const stream = fc.record({
  pieces: fc.array(piece, { maxLength: 20 }),
  lineEnds: fc.array(eol, { minLength: 1, maxLength: 4 }),
  comments: fc.boolean(),
  role: fc.boolean(),
  done: fc.boolean(),
});

interface StreamCase {
  pieces: string[];
  lineEnds: string[];
  comments: boolean;
  role: boolean;
  done: boolean;
}

/** What classifyStream must say of a rendered case (see outcome.ts for the order of the rules). */
function expected(s: StreamCase): string {
  const events = (s.role ? 1 : 0) + s.pieces.length + (s.done ? 1 : 0);
  const finished = s.pieces.length > 0 || s.done;
  if (events === 0) return "error"; // an empty 200
  if (!finished) return "incomplete";
  return s.pieces.some((p) => p.length > 0) ? "ok" : "error";
}

function render(s: StreamCase): string {
  const nl = (i: number) => s.lineEnds[i % s.lineEnds.length] as string;
  const events: string[] = [];
  if (s.role) events.push(JSON.stringify({ choices: [{ delta: { role: "assistant", content: "" } }] }));
  s.pieces.forEach((p, i) => {
    events.push(
      JSON.stringify({
        choices: [{ delta: { content: p }, finish_reason: i === s.pieces.length - 1 ? "stop" : null }],
      }),
    );
  });
  if (s.done) events.push("[DONE]");
  return events
    .map((e, i) => `${s.comments ? `: keep-alive ${i}${nl(i)}` : ""}data: ${e}${nl(i)}${nl(i)}`)
    .join("");
}

describe(`SSE/OpenAI stream parsing under fuzzing (${RUNS} cases per property, seed ${SEED})`, () => {
  it("loses no complete event and no character, whatever the byte splits and line endings", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (s, cuts) => {
        const summary = feed(enc.encode(render(s)), cuts);
        assert.equal(summary.text, s.pieces.join(""));
        assert.equal(summary.chunkTimesMs.length, s.pieces.filter((p) => p.length > 0).length);
        assert.equal(summary.invalidEvents, 0);
        assert.equal(classifyStream(summary).outcome, expected(s));
      }),
      opts,
    );
  });

  it("never throws on arbitrary bytes (invalid UTF-8 included), and garbage is never ok", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const summary = feed(bytes, cuts);
        const verdict = classifyStream(summary);
        if (verdict.outcome === "ok") {
          // Only a real data event with content and a finish can make random bytes "ok".
          assert.ok(
            summary.chunkTimesMs.length > 0 && (summary.sawDone || summary.finishReason !== undefined),
          );
        }
      }),
      opts,
    );
  });

  it("a stream cut anywhere before its end is never ok (truncated JSON, missing [DONE] and finish)", () => {
    fc.assert(
      fc.property(stream, fc.nat(), (s, at) => {
        const text = render({ ...s, done: false });
        const bytes = enc.encode(text);
        const lastEvent = text.lastIndexOf("data: ");
        const cut = lastEvent <= 0 ? 0 : at % Math.max(1, enc.encode(text.slice(0, lastEvent)).length + 20);
        const summary = feed(bytes.subarray(0, Math.min(cut, bytes.length - 1)), []);
        assert.notEqual(classifyStream(summary).outcome, "ok");
      }),
      opts,
    );
  });

  it("handles a 1 MB content line split into many small reads", () => {
    const big = "x".repeat(1 << 20);
    const text = `data: ${JSON.stringify({ choices: [{ delta: { content: big }, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
    const bytes = enc.encode(text);
    const cuts = Array.from({ length: 200 }, (_, i) => Math.floor((i * bytes.length) / 200));
    const summary = feed(bytes, cuts);
    assert.equal(summary.text?.length, big.length);
    assert.equal(classifyStream(summary).outcome, "ok");
  });
});
