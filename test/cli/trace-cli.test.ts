import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, assertRunInvariants, benchRun } from "../helpers/checked-run.js";
import { runCli, tempDir } from "../helpers/cli.js";
import {
  modelList,
  oneTokenAnswer,
  type ScheduledServer,
  startScheduledServer,
} from "../helpers/scheduled-server.js";

// biome-ignore lint/suspicious/noExplicitAny: records and summaries are read back untyped.
type Loose = any;

function mooncake(rows: { t: number; i: number; o: number; h?: number[] }[]): string {
  const file = join(tempDir(), "trace.jsonl");
  writeFileSync(
    file,
    rows
      .map((r) =>
        JSON.stringify({
          timestamp: r.t,
          input_length: r.i,
          output_length: r.o,
          ...(r.h ? { hash_ids: r.h } : {}),
        }),
      )
      .join("\n"),
  );
  return file;
}

const QUIET = ["--baseline", "0", "-q"];

describe("bench --trace", () => {
  let capture: ScheduledServer;
  before(async () => {
    capture = await startScheduledServer((req) =>
      req.url?.endsWith("/models") ? modelList("m") : oneTokenAnswer(),
    );
  });
  after(() => capture.close());

  it("replays 1,000 rows on their timeline at --trace-speed 10: one record per row, each at its offset", async () => {
    // 1,000 rows 20 ms apart on the trace's clock: 20 s recorded, 2 s replayed at 500 requests a second.
    const file = mooncake(Array.from({ length: 1000 }, (_, k) => ({ t: 1000 + 20 * k, i: 16, o: 1 })));
    const run = await benchRun(
      [
        "--url",
        capture.url,
        "--model",
        "m",
        "--server-metrics",
        "none",
        "--trace",
        file,
        "--trace-speed",
        "10",
        ...QUIET,
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    assertRunInvariants(run);
    const recs = run.records as Loose[];
    assert.equal(recs.length, 1000);
    assert.ok(recs.every((r) => r.phase === "measure" && r.scenario === "trace"));
    const t0 = Math.min(...recs.map((r) => r.intendedStartMs));
    const offsets = recs.map((r) => r.intendedStartMs - t0).sort((a, b) => a - b);
    for (const [k, o] of offsets.entries())
      assert.ok(Math.abs(o - 2 * k) < 0.5, `row ${k} meant for ${2 * k} ms, was ${o}`);
    const level = (run.summary as Loose).levels[0];
    assert.equal(level.n, 1000);
    assert.ok(Math.abs(level.rate - 500) < 1, `offered ${level.rate} req/s`);
    assert.equal(typeof level.send_lag_ms.p99, "number", "send lag reported");
    assert.ok(
      level.send_lag_ms.p99 < 50,
      `send lag p99 ${level.send_lag_ms.p99} ms (a generous bound; the benchmark measures it)`,
    );
    // Each row asks for its own output length, exactly.
    const sent = capture.received.filter((r) => r.path.includes("/chat/")).slice(-1000);
    assert.ok(sent.every((r) => (r.body as Loose).max_tokens === 1 && (r.body as Loose).ignore_eos === true));
  });

  it("sends rows that share hash ids with byte-identical prompt prefixes", async () => {
    const file = mooncake([
      { t: 0, i: 30, o: 1, h: [5, 6] },
      { t: 10, i: 25, o: 3, h: [5, 7] },
      { t: 20, i: 30, o: 1 },
    ]);
    const before = capture.received.length;
    const run = await benchRun(
      [
        "--url",
        capture.url,
        "--model",
        "m",
        "--trace",
        file,
        "--trace-block-tokens",
        "20",
        "--server-metrics",
        "none",
        ...QUIET,
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    const bodies = capture.received
      .slice(before)
      .filter((r) => r.path.includes("/chat/"))
      .map((r) => r.body as Loose);
    assert.equal(bodies.length, 3);
    const words = bodies.map((b) => (b.messages[0].content as string).split(" "));
    assert.deepEqual(
      words.map((w) => w.length),
      [30, 25, 30],
    );
    assert.deepEqual(words[0]?.slice(0, 20), words[1]?.slice(0, 20), "block 5 is shared byte for byte");
    assert.notDeepEqual(words[0]?.slice(20, 25), words[1]?.slice(20, 25));
    assert.notDeepEqual(
      words[2]?.slice(0, 20),
      words[0]?.slice(0, 20),
      "a row without hash ids shares nothing",
    );
    assert.deepEqual(
      bodies.map((b) => b.max_tokens),
      [1, 3, 1],
    );
    assert.ok(bodies.every((b) => b.ignore_eos === true));
  });

  it("reads the Azure CSV, takes a window or the first rows", async () => {
    const file = join(tempDir(), "azure.csv");
    const lines = ["TIMESTAMP,ContextTokens,GeneratedTokens"];
    for (let k = 0; k < 10; k++)
      lines.push(`2023-11-16 18:15:${String(10 + k).padStart(2, "0")}.5000000,${8 + k},2`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    const args = [
      "--url",
      capture.url,
      "--model",
      "m",
      "--trace",
      file,
      "--trace-speed",
      "20",
      "--server-metrics",
      "none",
      ...QUIET,
    ];
    const first = await benchRun([...args, "--trace-rows", "4"], tempDir());
    assertCleanExit(first, 0);
    assert.equal(first.records.length, 4);
    const windowed = await benchRun([...args, "--trace-from", "3", "--trace-to", "6"], tempDir());
    assertCleanExit(windowed, 0);
    assert.equal(windowed.records.length, 3, "rows at 3, 4 and 5 s");
  });

  it("a bad row is its line number and reason, exit 2, before any load", async () => {
    const file = join(tempDir(), "bad.jsonl");
    writeFileSync(
      file,
      '{"timestamp": 0, "input_length": 5, "output_length": 2}\n\n{"timestamp": 5, "input_length": "many", "output_length": 2}\n',
    );
    const out = tempDir();
    const before = capture.received.length;
    const r = await runCli(["bench", "--url", capture.url, "--model", "m", "--trace", file, "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /bad\.jsonl line 3: "input_length" must be a whole number >= 1, got "many"/);
    assert.equal(readdirSync(out).length, 0, "no run folder");
    assert.equal(
      capture.received.slice(before).filter((x) => x.path.includes("/chat/")).length,
      0,
      "nothing was sent",
    );
    const both = await runCli(["bench", "--trace", file, "-c", "2"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /use only one of --concurrency, --trace/);
    const idle = await runCli(["bench", "--trace-speed", "2"]);
    assert.equal(idle.code, 2);
    assert.match(idle.stderr, /--trace-speed acts only with --trace/);
  });
});

describe("record in production, replay in staging", () => {
  it("bench --trace replays the proxy's own log: each generation request it saw, at its arrival, with its token counts", async () => {
    const { startSimServer } = await import("../../src/sim/sim-server.js");
    const { simParams } = await import("../../src/sim/presets.js");
    const { startProxy } = await import("../helpers/proxy-harness.js");
    const { readFileSync } = await import("node:fs");
    const production = await startSimServer(simParams("fast"));
    const logFile = join(tempDir(), "proxy.log");
    const p = await startProxy(production.origin, { logFile, logPrefixHashes: true });
    try {
      // Production traffic through the proxy, one conversation id on every request.
      const body = JSON.stringify({
        model: "streamslo-sim",
        messages: [{ role: "user", content: "one two three four five" }],
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      });
      for (let k = 0; k < 6; k++) {
        const res = await fetch(`${p.url}/v1/chat/completions`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "x-session-id": "conv-7" },
        });
        await res.text();
      }
      await fetch(`${p.url}/v1/models`).then((r) => r.text());
    } finally {
      await p.stop();
      await production.close();
    }
    const lines = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Loose);
    const chat = lines.filter((l) => l.route.endsWith("/chat/completions"));
    assert.equal(chat.length, 6);
    for (const l of chat) {
      assert.equal(l.session_id, "conv-7");
      assert.equal(typeof l.arrived_at, "string");
      assert.ok(l.input_tokens > 0 && l.output_tokens === 3);
      // The same prompt every time: the same salted block hashes, and nothing of the text.
      assert.deepEqual(l.hash_ids, chat[0].hash_ids);
      assert.equal(l.hash_ids.length, 1);
    }
    assert.ok(!JSON.stringify(lines).includes("one two three"), "no prompt text in the log");

    const staging = await startScheduledServer((req) =>
      req.url?.endsWith("/models") ? modelList("m") : oneTokenAnswer(),
    );
    try {
      const run = await benchRun(
        ["--url", staging.url, "--model", "m", "--trace", logFile, "--server-metrics", "none", ...QUIET],
        tempDir(),
      );
      assertCleanExit(run, 0);
      assert.equal(
        run.records.length,
        6,
        "one replayed request per generation request in the log, none for /v1/models",
      );
      const sent = staging.received.filter((r) => r.path.includes("/chat/")).map((r) => r.body as Loose);
      assert.deepEqual(
        sent.map((b) => b.max_tokens),
        [3, 3, 3, 3, 3, 3],
      );
      for (const b of sent)
        assert.equal((b.messages[0].content as string).split(" ").length, chat[0].input_tokens);
      assert.equal(
        new Set(sent.map((b) => b.messages[0].content)).size,
        1,
        "shared hash ids: the same prompt again",
      );
      // The report sets the replay beside what the proxy measured of the same requests.
      const report = await runCli(["report", run.dir]);
      assert.equal(report.code, 0, report.stderr);
      const md = readFileSync(join(run.dir, "report.md"), "utf8");
      const block = md.split("## Replay beside production")[1]?.split("\n## ")[0] ?? "";
      assert.match(block, /production \(proxy log\) +replay \(this run\)/);
      assert.match(block, /requests +6 +6/);
      assert.match(block, /TTFT p50 \/ p95 +[\d.]+ \/ [\d.]+ ms +[\d.]+ \/ [\d.]+ ms/);
    } finally {
      await staging.close();
    }
  });
});
