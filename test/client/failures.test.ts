import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import type { ErrorCode, Outcome } from "../../src/core/record.js";
import { chat, type Schedule, startScheduledServer } from "../helpers/scheduled-server.js";
import { type SendOneOptions, sendOne } from "../helpers/send.js";

async function outcomeOf(schedule: Schedule, o: SendOneOptions = {}) {
  const server = await startScheduledServer(() => schedule);
  try {
    const rec = await sendOne(server.url, o);
    return { outcome: rec.outcome, code: rec.error?.code, message: rec.error?.message ?? "" };
  } finally {
    await server.close();
  }
}

const json = { "content-type": "application/json" };
const start = [
  { atMs: 0, data: chat.role() },
  { atMs: 5, data: chat.token("a") },
];

const cases: [string, Schedule, Outcome, ErrorCode, RegExp?][] = [
  [
    "HTTP 500 with a JSON error",
    { status: 500, headers: json, writes: [{ atMs: 0, raw: '{"error":{"message":"kaput"}}' }] },
    "error",
    "http_500",
    /HTTP 500: kaput/,
  ],
  [
    "HTTP 401",
    { status: 401, headers: json, writes: [{ atMs: 0, raw: '{"error":"bad key"}' }] },
    "error",
    "http_401",
  ],
  [
    "an HTML page with status 200",
    { headers: { "content-type": "text/html" }, writes: [{ atMs: 0, raw: "<!doctype html><p>hi</p>" }] },
    "error",
    "not_sse",
    /HTML/,
  ],
  ["an empty 200", { writes: [] }, "error", "empty_response"],
  ["a stream that ends before [DONE]", { writes: start }, "incomplete", "stream_dropped"],
  ["a connection reset mid-stream", { writes: start, finish: "destroy" }, "incomplete", "stream_reset"],
  [
    "an in-band error event",
    { writes: [...start, { atMs: 10, data: '{"error":{"message":"oom"}}' }] },
    "error",
    "stream_error",
    /oom/,
  ],
  [
    "invalid JSON in the stream",
    { writes: [...start, { atMs: 10, data: "{not json" }, { atMs: 11, data: "[DONE]" }] },
    "error",
    "invalid_json",
  ],
];

describe("every failure class gets its stable code", () => {
  for (const [what, schedule, outcome, code, message] of cases) {
    it(what, async () => {
      const got = await outcomeOf(schedule);
      assert.equal(got.outcome, outcome);
      assert.equal(got.code, code);
      if (message) assert.match(got.message, message);
    });
  }

  it("a stall longer than the timeout mid-stream", async () => {
    const got = await outcomeOf({ writes: start, finish: "hang" }, { timeoutMs: 300 });
    assert.equal(got.outcome, "incomplete");
    assert.equal(got.code, "body_timeout");
  });

  it("no response headers within the timeout", async () => {
    const got = await outcomeOf({ headersAtMs: 2000, writes: [], finish: "hang" }, { timeoutMs: 300 });
    assert.equal(got.outcome, "error");
    assert.equal(got.code, "headers_timeout");
  });

  it("connection refused", async () => {
    // Take a free port, then close it, so nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    const rec = await sendOne(`http://127.0.0.1:${port}/v1`);
    assert.equal(rec.outcome, "error");
    assert.equal(rec.error?.code, "connect_refused");
  });
});

describe("streams that never end, and huge ones", () => {
  it("a stream that keeps sending past --max-request-time ends incomplete with request_timeout", async () => {
    const writes = Array.from({ length: 400 }, (_, i) => ({ atMs: i * 10, data: chat.token("x") }));
    const server = await startScheduledServer(() => ({ writes, finish: "hang" }));
    try {
      const { Agent } = await import("undici");
      const { Clock } = await import("../../src/client/clock.js");
      const { resolveEndpoint } = await import("../../src/client/endpoint.js");
      const { sendGeneration } = await import("../../src/client/generation-client.js");
      const agent = new Agent();
      const endpoint = resolveEndpoint(server.url, "chat");
      const rec = await sendGeneration(
        agent,
        new Clock(),
        { endpoint, stream: true, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, maxRequestMs: 400 },
        "{}",
        { id: "t", scenario: "t", phase: "measure", intendedStartMs: 0 },
      );
      await agent.close();
      assert.equal(rec.outcome, "incomplete");
      assert.equal(rec.error?.code, "request_timeout");
      assert.ok(
        rec.chunkTimesMs.length > 10 && rec.chunkTimesMs.length < 100,
        `${rec.chunkTimesMs.length} chunks`,
      );
    } finally {
      await server.close();
    }
  });
});
