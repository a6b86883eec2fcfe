import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LevelAggregate } from "../../src/core/level-aggregate.js";
import { requestMetrics } from "../../src/core/request-metrics.js";
import { chat, evenStream, type ScheduledServer, startScheduledServer } from "../helpers/scheduled-server.js";
import { sendOne } from "../helpers/send.js";

// Generous: the machine may be busy; what is proven here is that the right moments are timed.
const TOL_MS = 25;

const near = (got: number | undefined, want: number, what: string) =>
  assert.ok(got !== undefined && Math.abs(got - want) <= TOL_MS, `${what}: measured ${got}, emitted ${want}`);

describe("measured timing matches an exact emission schedule", () => {
  let server: ScheduledServer;
  before(async () => {
    server = await startScheduledServer(() => ({ writes: evenStream(150, 40, 6) }));
  });
  after(() => server.close());

  it("TTFT ends at the first content chunk, not the role chunk sent at once", async () => {
    const rec = await sendOne(server.url);
    assert.equal(rec.outcome, "ok");
    const m = requestMetrics(rec);
    near(m.ttftMs, 150, "TTFT");
    near(m.e2eMs, 150 + 5 * 40, "E2E");
    assert.ok((rec.headersMs ?? 0) - rec.startMs < 100, "headers came before the first token");
    for (let i = 1; i < rec.chunkTimesMs.length; i++) {
      near((rec.chunkTimesMs[i] as number) - (rec.chunkTimesMs[i - 1] as number), 40, `ITL ${i}`);
    }
    assert.equal(rec.outputTokens, 6);
    assert.equal(rec.tokenSource, "usage");
    near(m.tpotMs, 40, "TPOT");
  });

  it("handles CRLF framing and lines split across TCP writes", async () => {
    // Each frame is cut in half, the halves 2 ms apart: the event counts when its second half lands.
    const split = await startScheduledServer(() => ({
      writes: evenStream(150, 40, 6),
      split: true,
      eol: "\r\n",
    }));
    try {
      const rec = await sendOne(split.url);
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.chunkTimesMs.length, 6);
      near(requestMetrics(rec).ttftMs, 152, "TTFT (split)");
    } finally {
      await split.close();
    }
  });

  it("counts multi-token chunks per chunk and per token", async () => {
    const multi = await startScheduledServer(() => ({
      writes: [
        { atMs: 0, data: chat.role() },
        { atMs: 100, data: chat.token("ab", null, 2) },
        { atMs: 160, data: chat.token("cde", null, 3) },
        { atMs: 160, data: chat.finish("stop") },
        { atMs: 160, data: "[DONE]" },
      ],
    }));
    try {
      const rec = await sendOne(multi.url);
      assert.deepEqual(rec.chunkTokens, [2, 3]);
      assert.equal(rec.outputTokens, 5);
      assert.equal(rec.tokenSource, "chunks");
      const agg = new LevelAggregate({ scenario: "x", mode: "stream" });
      agg.add(rec);
      const s = agg.summary();
      assert.equal(s.itl_chunk_ms.count, 1);
      assert.equal(s.itl_token_ms.count, 3);
      near(s.itl_token_ms.p50, 20, "per-token ITL");
      near(s.itl_chunk_ms.p50, 60, "per-chunk ITL");
    } finally {
      await multi.close();
    }
  });

  it("times a non-streaming request as plain HTTP wall time", async () => {
    const plain = await startScheduledServer(() => ({
      headers: { "content-type": "application/json" },
      headersAtMs: 120,
      writes: [
        {
          atMs: 120,
          raw: '{"choices":[{"message":{"role":"assistant","content":"hi there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}',
        },
      ],
    }));
    try {
      const rec = await sendOne(plain.url, { stream: false });
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.outputTokens, 2);
      // One moment, 120 ms in, on a fresh connection: the first connect on a busy machine has been
      // seen to add 30 ms (one CI run in six), so the bound is wider than for a stream's own gaps.
      const wall = requestMetrics(rec).wallMs;
      assert.ok(
        wall !== undefined && Math.abs(wall - 121) <= 2 * TOL_MS,
        `wall: measured ${wall}, emitted 121`,
      );
    } finally {
      await plain.close();
    }
  });
});
