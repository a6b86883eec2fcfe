import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { interpretChunk } from "../../src/core/openai-chunk.js";

describe("interpretChunk", () => {
  it("reads chat deltas and ignores the role-only chunk's empty content", () => {
    const role = interpretChunk('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}');
    assert.equal(role.kind, "data");
    assert.equal(role.text, "");
    const tok = interpretChunk('{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}');
    assert.equal(tok.text, "Hi");
    assert.equal(tok.finishReason, undefined);
  });

  it("reads completions text, finish_reason and usage on the same chunk (llama.cpp)", () => {
    const c = interpretChunk(
      '{"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"completion_tokens":4,"prompt_tokens":2}}',
    );
    assert.equal(c.text, "");
    assert.equal(c.finishReason, "length");
    assert.equal(c.completionTokens, 4);
    assert.equal(c.promptTokens, 2);
  });

  it("counts tokens from logprobs and treats reasoning and tool calls as generated text", () => {
    const c = interpretChunk('{"choices":[{"delta":{"content":"ab"},"logprobs":{"content":[{},{}]}}]}');
    assert.equal(c.tokens, 2);
    assert.equal(interpretChunk('{"choices":[{"delta":{"reasoning_content":"hmm"}}]}').text, "hmm");
    const tool = interpretChunk(
      '{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\\"a\\""}}]}}]}',
    );
    assert.equal(tool.text, '{"a"');
    // A tool call starts (and so its TTFT) at the function name, as the README's metric definitions say.
    const name = interpretChunk(
      '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"get_weather"}}]}}]}',
    );
    assert.equal(name.text, "get_weather");
  });

  it("reads choice 0 alone when a chunk carries other choices (n > 1)", () => {
    const other = interpretChunk('{"choices":[{"index":1,"delta":{"content":"b"},"finish_reason":"stop"}]}');
    assert.equal(other.text, "");
    assert.equal(other.finishReason, undefined);
    assert.equal(other.otherChoice, 1);
    const both = interpretChunk(
      '{"choices":[{"index":2,"delta":{"content":"c"}},{"index":0,"delta":{"content":"a"}}]}',
    );
    assert.equal(both.text, "a");
    assert.equal(both.otherChoice, 2);
    assert.equal(interpretChunk('{"choices":[{"delta":{"content":"x"}}]}').otherChoice, undefined);
  });

  it("recognises [DONE], error events (OpenAI and vLLM shapes) and garbage", () => {
    assert.equal(interpretChunk(" [DONE]").kind, "done");
    const e1 = interpretChunk('{"error":{"message":"boom","code":500}}');
    assert.equal(e1.kind, "error");
    assert.equal(e1.errorMessage, "boom");
    const e2 = interpretChunk('{"object":"error","message":"over capacity"}');
    assert.equal(e2.errorMessage, "over capacity");
    assert.equal(interpretChunk('{"choices":[').kind, "invalid");
    assert.equal(interpretChunk("[1,2]").kind, "invalid");
  });

  it("reads a whole non-streaming chat response", () => {
    const c = interpretChunk(
      '{"choices":[{"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}',
    );
    assert.equal(c.text, "Hello there");
    assert.equal(c.completionTokens, 2);
  });
});
