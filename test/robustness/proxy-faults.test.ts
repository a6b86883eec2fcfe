import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/cli.js";
import { sse, sseHead, startHostileServer } from "../helpers/hostile-server.js";
import { chatBody, exchange, startProxy } from "../helpers/proxy-harness.js";
import { chat } from "../helpers/scheduled-server.js";

const MiB = 1024 * 1024;

describe("the proxy in front of a hostile upstream", () => {
  it("relays a 20 MiB SSE line unchanged, stops parsing it, and logs response_too_large", async () => {
    const line = `data: {"choices":[{"delta":{"content":"${"q".repeat(20 * MiB)}"}}]}\n\n`;
    const upstream = await startHostileServer((s) => {
      sseHead(s);
      s.write(sse(chat.role()));
      s.write(line);
      s.end(sse("[DONE]"));
    });
    const logFile = join(tempDir(), "proxy.log");
    const p = await startProxy(upstream.origin, { logFile });
    try {
      const r = await exchange(`${p.url}/v1/chat/completions`, { body: chatBody() });
      assert.equal(r.status, 200);
      assert.ok(r.complete);
      assert.equal(
        r.body.length,
        Buffer.byteLength(sse(chat.role()) + line + sse("[DONE]")),
        "every byte relayed",
      );
    } finally {
      await p.stop();
      await upstream.close();
    }
    const [log] = readFileSync(logFile, "utf8").trim().split("\n");
    const entry = JSON.parse(log as string) as { outcome: string; error: string };
    assert.equal(entry.outcome, "upstream_error");
    assert.match(entry.error, /^response_too_large: an SSE line or event over 16 MiB/);
  });

  it("a stream cut mid-event is a drop, not garbage", async () => {
    const upstream = await startHostileServer((s) => {
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      const part = `${sse(chat.role())}${sse(chat.token("a"))}data: {"choices":[{"delta":{"content":"b`;
      s.write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
      setTimeout(() => s.resetAndDestroy(), 20);
    });
    const logFile = join(tempDir(), "proxy.log");
    const p = await startProxy(upstream.origin, { logFile });
    try {
      const r = await exchange(`${p.url}/v1/chat/completions`, { body: chatBody() });
      assert.equal(r.complete, false, "the break is passed on to the client");
    } finally {
      await p.stop();
      await upstream.close();
    }
    const entry = JSON.parse(readFileSync(logFile, "utf8").trim()) as { outcome: string; error: string };
    assert.equal(entry.outcome, "upstream_drop");
    assert.match(entry.error, /^stream_reset/);
  });
});
