import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArrivalOrder, proxyLogRow, TraceError, TraceParser, traceFormatOf } from "../../src/core/trace.js";
import { tracePrompt } from "../../src/core/trace-prompt.js";

describe("trace rows", () => {
  it("reads Mooncake-style JSONL and the Azure CSV", () => {
    const m = new TraceParser("mooncake");
    assert.deepEqual(
      m.parse('{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}'),
      {
        atMs: 27482,
        inputTokens: 6955,
        outputTokens: 52,
        hashIds: [46, 47],
      },
    );
    assert.equal(m.parse("   "), undefined);
    const a = new TraceParser("azure");
    assert.equal(a.parse("TIMESTAMP,ContextTokens,GeneratedTokens"), undefined);
    const r1 = a.parse("2023-11-16 18:15:46.6805900,374,44");
    const r2 = a.parse("2023-11-16 18:15:50.9951690,396,109");
    assert.equal(r1?.inputTokens, 374);
    assert.equal(r2?.outputTokens, 109);
    assert.ok(Math.abs((r2?.atMs ?? 0) - (r1?.atMs ?? 0) - 4314.579) < 0.001);
    assert.equal(traceFormatOf("x.csv", ""), "azure");
    assert.equal(traceFormatOf("x.txt", "TIMESTAMP,ContextTokens,GeneratedTokens"), "azure");
    assert.equal(traceFormatOf("x.jsonl", "{}"), "mooncake");
  });

  it("says what is wrong with a bad row", () => {
    const m = new TraceParser("mooncake");
    const bad = (line: string, re: RegExp) =>
      assert.throws(
        () => m.parse(line),
        (e: Error) => e instanceof TraceError && re.test(e.message),
      );
    bad("{not json", /not JSON/);
    bad(
      '{"timestamp": 1, "input_length": 0, "output_length": 5}',
      /"input_length" must be a whole number >= 1, got 0/,
    );
    bad('{"timestamp": -1, "input_length": 3, "output_length": 5}', /"timestamp" must be milliseconds >= 0/);
    bad(
      '{"timestamp": 1, "input_length": 3, "output_length": 5, "hash_ids": ["a"]}',
      /"hash_ids" must be a list of whole numbers/,
    );
    m.parse('{"timestamp": 100, "input_length": 3, "output_length": 5}');
    bad(
      '{"timestamp": 50, "input_length": 3, "output_length": 5}',
      /before the row above \(100 ms\); sort the trace by time/,
    );
    assert.throws(() => new TraceParser("azure").parse("yesterday,1,2"), /is not a date-time/);
  });

  it("builds prompts whose shared hash ids are byte-identical blocks, and the rest distinct", () => {
    const a = tracePrompt({ atMs: 0, inputTokens: 20, outputTokens: 1, hashIds: [7, 8] }, 0, 1, 10);
    const b = tracePrompt({ atMs: 0, inputTokens: 15, outputTokens: 1, hashIds: [7, 9] }, 1, 1, 10);
    const wa = a.split(" ");
    const wb = b.split(" ");
    assert.equal(wa.length, 20);
    assert.equal(wb.length, 15);
    assert.deepEqual(wa.slice(0, 10), wb.slice(0, 10), "block 7 is the same text in both");
    assert.notDeepEqual(wa.slice(10, 15), wb.slice(10, 15));
    const plain1 = tracePrompt({ atMs: 0, inputTokens: 12, outputTokens: 1 }, 0, 1, 10);
    const plain2 = tracePrompt({ atMs: 0, inputTokens: 12, outputTokens: 1 }, 1, 1, 10);
    assert.notEqual(plain1, plain2, "rows without hash ids share nothing");
    assert.equal(plain1, tracePrompt({ atMs: 5, inputTokens: 12, outputTokens: 1 }, 0, 1, 10), "seeded");
  });

  it("puts the proxy's log, written as requests finish, back in order of arrival", () => {
    const line = (arrived: number, e2e: number, route = "/v1/chat/completions") =>
      JSON.stringify({
        arrived_at: new Date(arrived).toISOString(),
        route,
        e2e_ms: e2e,
        input_tokens: 9,
        output_tokens: 4,
      });
    assert.equal(proxyLogRow(line(0, 5, "/v1/models")), undefined, "other routes are not replayed");
    assert.throws(
      () => proxyLogRow('{"route":"/v1/completions","input_tokens":1,"output_tokens":2}'),
      /no "arrived_at"/,
    );
    // Finish order: a long request that arrived first ends last.
    const finished = [
      [1000, 100],
      [1200, 50],
      [900, 600],
      [3000, 10],
      [5000, 10],
    ] as const;
    const order = new ArrivalOrder();
    const out: number[] = [];
    for (const [a, e] of finished) {
      const r = proxyLogRow(line(a, e));
      if (r) for (const x of order.push(r, r.finishMs)) out.push(x.atMs - 0);
    }
    for (const x of order.flush()) out.push(x.atMs);
    assert.deepEqual(out, [900, 1000, 1200, 3000, 5000]);
    assert.equal(order.late, 0);
  });
});
