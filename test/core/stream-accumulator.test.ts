import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyStream } from "../../src/core/outcome.js";
import { StreamAccumulator } from "../../src/core/stream-accumulator.js";

const enc = new TextEncoder();
const role = '{"choices":[{"delta":{"role":"assistant","content":""}}]}';
const tok = (t: string, finish: string | null = null) =>
  JSON.stringify({ choices: [{ delta: { content: t }, finish_reason: finish }] });

/** Feeds `text` in pieces cut at `cuts`, each piece at time = its index. */
function feed(text: string, cuts: number[]): StreamAccumulator {
  const acc = new StreamAccumulator(true);
  const bytes = enc.encode(text);
  let from = 0;
  [...cuts, bytes.length].forEach((to, i) => {
    acc.push(bytes.subarray(from, to), i);
    from = to;
  });
  acc.end(cuts.length + 1);
  return acc;
}

describe("StreamAccumulator", () => {
  const body = `data: ${role}\n\ndata: ${tok("Hel")}\n\ndata: ${tok("lo", "stop")}\n\ndata: [DONE]\n\n`;

  it("times content chunks, never the role chunk", () => {
    const acc = feed(body, [body.indexOf("data: {", 5), body.indexOf("lo") - 30, body.indexOf("[DONE]")]);
    const s = acc.summary;
    assert.equal(s.firstContentMs, 1);
    assert.deepEqual(s.chunkTimesMs, [1, 2]);
    assert.deepEqual(s.chunkTokens, [1, 1]);
    assert.equal(s.text, "Hello");
    assert.equal(s.sawDone, true);
    assert.equal(classifyStream(s).outcome, "ok");
  });

  it("gives the same events for every way of cutting the bytes, with LF, CRLF or CR framing", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const framed = body.replace(/\n/g, eol);
      const whole = feed(framed, []).summary;
      for (let cut = 1; cut < framed.length; cut += 7) {
        const s = feed(framed, [cut]).summary;
        assert.equal(s.text, "Hello", `eol ${JSON.stringify(eol)} cut at ${cut}`);
        assert.equal(s.sawDone, true);
        assert.equal(s.chunkTimesMs.length, whole.chunkTimesMs.length);
      }
    }
  });

  it("joins UTF-8 characters split across buffers and skips SSE comments", () => {
    const text = `: keep-alive\n\ndata: ${tok("héllo ✓")}\n\ndata: [DONE]\n\n`;
    const bytes = enc.encode(text);
    const at = bytes.indexOf(0xe2) + 1; // inside the 3-byte check mark
    const acc = new StreamAccumulator(true);
    acc.push(bytes.subarray(0, at), 0);
    acc.push(bytes.subarray(at), 1);
    const s = acc.end(2);
    assert.equal(s.text, "héllo ✓");
    assert.equal(s.events, 2);
  });

  it("reads usage from a usage-only chunk and per-chunk token counts from logprobs", () => {
    const multi = JSON.stringify({
      choices: [{ delta: { content: "abc" }, logprobs: { content: [{}, {}, {}] } }],
    });
    const usage = '{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":4}}';
    const text = `data: ${multi}\n\ndata: ${tok("d", "length")}\n\ndata: ${usage}\n\ndata: [DONE]\n\n`;
    const s = feed(text, []).summary;
    assert.deepEqual(s.chunkTokens, [3, 1]);
    assert.equal(s.completionTokens, 4);
    assert.equal(s.promptTokens, 7);
  });

  it("without logprobs, spreads a usage well over the chunk count evenly over the chunks", () => {
    const usage = (n: number) => `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":${n}}}`;
    const stream = (chunks: number, n: number) =>
      `${Array.from({ length: chunks }, (_, i) => `data: ${tok(`t${i}`)}\n\n`).join("")}data: ${usage(n)}\n\ndata: [DONE]\n\n`;
    // 10 tokens in 3 chunks: packed; as vLLM streams every k, the first alone: 1 + 5 + 4 (the sum stays the usage)
    assert.deepEqual(feed(stream(3, 10), []).summary.chunkTokens, [1, 5, 4]);
    assert.deepEqual(feed(stream(5, 16), []).summary.chunkTokens, [1, 4, 4, 4, 3]);
    // one over the chunk count (an end-of-sequence token) is not packing
    assert.deepEqual(feed(stream(4, 5), []).summary.chunkTokens, [1, 1, 1, 1]);
    // reasoning a server counts but does not stream is not packing; streamed reasoning is text like any
    const hidden = (chunks: number, n: number, reasoning: number, streamed: boolean) =>
      `${Array.from({ length: chunks }, (_, i) => `data: ${JSON.stringify({ choices: [{ delta: streamed && i === 0 ? { reasoning_content: "hm" } : { content: `t${i}` } }] })}\n\n`).join("")}data: {"choices":[],"usage":{"completion_tokens":${n},"completion_tokens_details":{"reasoning_tokens":${reasoning}}}}\n\ndata: [DONE]\n\n`;
    assert.deepEqual(feed(hidden(4, 40, 36, false), []).summary.chunkTokens, [1, 1, 1, 1]);
    assert.deepEqual(feed(hidden(4, 40, 36, true), []).summary.chunkTokens, [1, 13, 13, 13]);
    // logprobs' counts are the server's word: never spread
    const multi = JSON.stringify({
      choices: [{ delta: { content: "ab" }, logprobs: { content: [{}, {}] } }],
    });
    const counted = `data: ${multi}\n\ndata: ${tok("c")}\n\ndata: ${usage(9)}\n\ndata: [DONE]\n\n`;
    assert.deepEqual(feed(counted, []).summary.chunkTokens, [2, 1]);
  });

  it("accepts a finish_reason without [DONE], and a last event without its blank line", () => {
    const s = feed(`data: ${tok("x", "stop")}`, []).summary;
    assert.equal(classifyStream(s).outcome, "ok");
  });

  it("classifies drops, in-band errors, garbage, HTML and empty bodies", () => {
    const dropped = feed(`data: ${role}\n\ndata: ${tok("x")}\n\n`, []).summary;
    assert.deepEqual(classifyStream(dropped), {
      outcome: "incomplete",
      error: { code: "stream_dropped", message: "stream ended before [DONE] or a finish_reason" },
    });
    const reset = classifyStream(dropped, { code: "stream_reset", message: "other side closed" });
    assert.equal(reset.outcome, "incomplete");
    assert.equal(reset.error?.code, "stream_reset");
    const inband = feed(`data: ${tok("x")}\n\ndata: {"error":{"message":"engine died"}}\n\n`, []).summary;
    assert.equal(classifyStream(inband).error?.code, "stream_error");
    assert.equal(classifyStream(inband).error?.message, "engine died");
    const garbage = feed(`data: ${tok("x")}\n\ndata: {"choi\n\ndata: [DONE]\n\n`, []).summary;
    assert.equal(classifyStream(garbage).error?.code, "invalid_json");
    const html = feed("<!DOCTYPE html><html><body>hi</body></html>", []).summary;
    assert.equal(classifyStream(html).error?.code, "not_sse");
    assert.match(classifyStream(html).error?.message ?? "", /HTML page/);
    const empty = feed("", []).summary;
    assert.equal(classifyStream(empty).error?.code, "empty_response");
    const noContent = feed(`data: ${role}\n\ndata: [DONE]\n\n`, []).summary;
    assert.equal(classifyStream(noContent).error?.code, "empty_response");
  });
});
