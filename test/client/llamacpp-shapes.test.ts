import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startScheduledServer } from "../helpers/scheduled-server.js";
import { sendOne } from "../helpers/send.js";

// Stream shapes as llama.cpp's llama-server sends them (seen on a real server): the chat stream opens
// with a role chunk whose content is null, ends with an empty-delta finish chunk and a usage-only
// chunk; the completions stream puts usage on its finish chunk, whose text is empty.
const meta = '"created":1,"model":"stories260K.gguf","object":"%o","id":"chatcmpl-x"';
const completions = [
  '{"choices":[{"text":" upon","index":0,"logprobs":null,"finish_reason":null}],%m}',
  '{"choices":[{"text":" a","index":0,"logprobs":null,"finish_reason":null}],%m}',
  '{"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],%m,"usage":{"completion_tokens":3,"prompt_tokens":2,"total_tokens":5},"timings":{"predicted_n":3}}',
].map((s) => s.replace("%m", meta.replace("%o", "text_completion")));
const chatStream = [
  '{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],%m}',
  '{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"\\""}}],%m}',
  '{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"M"}}],%m}',
  '{"choices":[{"finish_reason":"length","index":0,"delta":{}}],%m}',
  '{"choices":[],%m,"usage":{"completion_tokens":2,"prompt_tokens":42,"total_tokens":44}}',
].map((s) => s.replace("%m", meta.replace("%o", "chat.completion.chunk")));

describe("llama.cpp stream shapes", () => {
  it("completions: usage on the finish chunk, empty final text not counted as a token chunk", async () => {
    const server = await startScheduledServer(() => ({
      writes: [...completions.map((data, i) => ({ atMs: 20 + i * 10, data })), { atMs: 60, data: "[DONE]" }],
    }));
    try {
      const rec = await sendOne(server.url, { api: "completions", keepText: true });
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.text, " upon a");
      assert.equal(rec.chunkTimesMs.length, 2);
      assert.equal(rec.outputTokens, 3);
      assert.equal(rec.tokenSource, "usage");
      assert.equal(rec.promptTokens, 2);
      assert.equal(rec.finishReason, "length");
    } finally {
      await server.close();
    }
  });

  it("chat: a null-content role chunk does not start TTFT", async () => {
    const server = await startScheduledServer(() => ({
      writes: [
        ...chatStream.map((data, i) => ({ atMs: i === 0 ? 0 : 80 + i * 10, data })),
        { atMs: 140, data: "[DONE]" },
      ],
    }));
    try {
      const rec = await sendOne(server.url, { keepText: true });
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.text, '"M');
      assert.ok((rec.firstContentMs ?? 0) - rec.startMs >= 80);
      assert.equal(rec.outputTokens, 2);
    } finally {
      await server.close();
    }
  });
});
