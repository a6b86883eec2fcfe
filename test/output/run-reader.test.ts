import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LevelAggregate } from "../../src/core/level-aggregate.js";
import type { RequestRecord } from "../../src/core/record.js";
import { RunReadError, readRun } from "../../src/output/run-reader.js";

const base = mkdtempSync(join(tmpdir(), "streamslo-run-reader-"));
after(() => rmSync(base, { recursive: true, force: true }));

function record(i: number, over: Partial<RequestRecord> = {}): RequestRecord {
  const start = 1000 * i;
  return {
    id: String(i),
    scenario: "c=2",
    phase: "measure",
    intendedStartMs: start,
    startMs: start,
    firstContentMs: start + 100 + i,
    chunkTimesMs: [start + 100 + i, start + 120 + i, start + 140 + i],
    chunkTokens: [1, 1, 1],
    endMs: start + 141 + i,
    outputTokens: 3,
    tokenSource: "usage",
    outcome: "ok",
    ...over,
  };
}

/** A run folder as bench writes it: summary.json with levels, requests.jsonl one record per line. */
function writeRun(name: string, records: RequestRecord[], jsonl?: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  const agg = new LevelAggregate({ scenario: "c=2", mode: "stream", concurrency: 2 });
  for (const r of records) if (r.phase === "measure") agg.add(r);
  writeFileSync(
    join(dir, "summary.json"),
    JSON.stringify({ run_dir: dir, levels: [agg.summary()] }, null, 2),
  );
  writeFileSync(join(dir, "requests.jsonl"), jsonl ?? records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  return dir;
}

async function rejectsWith(dir: string, message: string): Promise<void> {
  await assert.rejects(readRun(dir), (e: unknown) => {
    assert.ok(e instanceof RunReadError, `not a RunReadError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe("readRun", () => {
  it("reads a run folder back: level summaries and per-request samples", async () => {
    const records = [
      record(0, { phase: "warmup" }),
      record(1),
      record(2),
      record(3, {
        outcome: "error",
        chunkTimesMs: [],
        chunkTokens: [],
        error: { code: "http_503", message: "" },
      }),
      record(4),
      record(5, { phase: "cooldown" }),
    ];
    const dir = writeRun("good", records);
    const run = await readRun(dir);
    assert.equal(run.dir, dir);
    assert.equal(run.records, 6);
    assert.deepEqual(
      run.levels.map((l) => [l.scenario, l.n, l.ok]),
      [["c=2", 4, 3]],
    );
    assert.deepEqual(run.samples.get("c=2"), {
      ttft: [101, 102, 104],
      tpot: [20, 20, 20],
      e2e: [141, 142, 144],
    });
  });

  it("skips blank lines and accepts CRLF line ends", async () => {
    const jsonl = `${JSON.stringify(record(1))}\r\n\r\n${JSON.stringify(record(2))}\r\n`;
    const run = await readRun(writeRun("crlf", [record(1), record(2)], jsonl));
    assert.equal(run.records, 2);
    assert.deepEqual(run.samples.get("c=2")?.ttft, [101, 102]);
  });

  it("says when the folder is missing or not a run", async () => {
    const missing = join(base, "nope");
    await rejectsWith(missing, `${missing}: no such folder; pass a folder written by streamslo bench`);
    const empty = join(base, "empty");
    mkdirSync(empty);
    await rejectsWith(empty, `${empty}: no summary.json here; pass a folder written by streamslo bench`);
    writeFileSync(join(empty, "summary.json"), '{"levels": []}');
    await rejectsWith(empty, `${empty}: no requests.jsonl here; pass a folder written by streamslo bench`);
    const file = join(empty, "summary.json");
    await rejectsWith(file, `${file}: not a folder; pass a folder written by streamslo bench`);
  });

  it("names the line of a bad JSONL record", async () => {
    const good = JSON.stringify(record(1));
    const dir = writeRun("bad-line", [], `${good}\n${good}\n{"scenario": "c=2", "phase":\n`);
    const path = join(dir, "requests.jsonl");
    await assert.rejects(readRun(dir), (e: unknown) => {
      assert.ok(e instanceof RunReadError);
      assert.match(e.message, new RegExp(`^${escapeRegExp(path)} line 3: not valid JSON \\(`));
      return true;
    });
    // A bad line followed by good ones is an error wherever it is.
    const middle = writeRun("bad-middle", [], `${good}\n{"scenario": "c=2"\n${good}\n`);
    await assert.rejects(readRun(middle), /line 2: not valid JSON/);
    const notRecord = writeRun("not-record", [], `${good}\n[1, 2]\n`);
    await rejectsWith(
      notRecord,
      `${join(notRecord, "requests.jsonl")} line 2: not a request record (not an object)`,
    );
  });

  it("reads the records before a last line that was cut off mid-write, and says so", async () => {
    const good = JSON.stringify(record(1));
    const dir = writeRun("cut", [], `${good}\n${good}\n{"scenario": "c=2", "ph`);
    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((text: string) => said.push(text) > 0) as typeof process.stderr.write;
    let run: Awaited<ReturnType<typeof readRun>>;
    try {
      run = await readRun(dir);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(run.records, 2);
    assert.deepEqual(said, [
      `streamslo: warning: ${join(dir, "requests.jsonl")} line 3 is cut off (the run was killed while writing it): read the 2 records before it\n`,
    ]);
  });

  it("says what a summary.json lacks", async () => {
    const dir = writeRun("bad-summary", [record(1)]);
    const path = join(dir, "summary.json");
    writeFileSync(path, "{ not json");
    await assert.rejects(readRun(dir), new RegExp(`^RunReadError: ${escapeRegExp(path)}: not valid JSON`));
    writeFileSync(path, '{"levels": [{"scenario": "c=2"}]}');
    await rejectsWith(dir, `${path}: levels[0] is not a level summary (no "request_throughput")`);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
