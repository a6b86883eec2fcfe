import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EndpointUrlError, resolveEndpoint, shownUrl } from "../../src/client/endpoint.js";
import { buildRequestBody } from "../../src/client/request-body.js";

describe("resolveEndpoint", () => {
  it("accepts base URLs with or without /v1 and full generation URLs", () => {
    assert.equal(resolveEndpoint("http://h:8000/v1", "chat").path, "/v1/chat/completions");
    assert.equal(resolveEndpoint("http://h:8000", "completions").path, "/v1/completions");
    const full = resolveEndpoint("http://h:8000/openai/v1/completions", "chat");
    assert.equal(full.api, "completions");
    assert.equal(full.basePath, "/openai/v1");
    assert.equal(resolveEndpoint("https://h/v1/", "chat").origin, "https://h");
  });

  it("keeps the query for the requests, and masks keys in it where the URL is shown", () => {
    const e = resolveEndpoint("https://h/openai/v1/chat/completions?api-version=2024-10-21&key=K1", "chat");
    assert.equal(e.path, "/openai/v1/chat/completions");
    assert.equal(e.query, "?api-version=2024-10-21&key=K1");
    assert.equal(shownUrl(e), "https://h/openai/v1/chat/completions?api-version=2024-10-21&key=[redacted]");
    assert.equal(resolveEndpoint("http://h:8000/v1", "chat").query, "");
  });

  it("rejects what is not an http(s) URL with a message that shows an example", () => {
    assert.throws(() => resolveEndpoint("localhost:8000", "chat"), EndpointUrlError);
    assert.throws(() => resolveEndpoint("ftp://h/v1", "chat"), /e\.g\. --url http/);
  });
});

describe("buildRequestBody", () => {
  it("asks for usage on streams and sends ignore_eos only when asked", () => {
    const b = JSON.parse(
      buildRequestBody(
        { api: "chat", model: "m", stream: true, ignoreEos: true },
        { prompt: "hi", maxTokens: 8, exact: true },
      ),
    );
    assert.deepEqual(b.messages, [{ role: "user", content: "hi" }]);
    assert.deepEqual(b.stream_options, { include_usage: true });
    assert.equal(b.ignore_eos, true);
    assert.equal(b.min_tokens, 8);
    const c = JSON.parse(
      buildRequestBody(
        {
          api: "completions",
          model: "m",
          stream: false,
          ignoreEos: true,
          extraBody: { cache_prompt: false },
        },
        { prompt: "hi", maxTokens: 8, exact: false },
      ),
    );
    assert.equal(c.prompt, "hi");
    assert.equal(c.stream_options, undefined);
    assert.equal(c.ignore_eos, undefined);
    assert.equal(c.cache_prompt, false);
  });
});
