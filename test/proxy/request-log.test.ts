import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, mock } from "node:test";
import { RequestLog, type RequestLogLine } from "../../src/proxy/request-log.js";
import { tempDir } from "../helpers/cli.js";

function line(n: number, error?: string): RequestLogLine {
  return {
    time: new Date(0).toISOString(),
    "service.name": "log-test",
    trace_id: "0".repeat(32),
    span_id: n.toString(16).padStart(16, "0"),
    method: "POST",
    route: "/v1/chat/completions",
    model: "m",
    status: 200,
    outcome: "ok",
    e2e_ms: n,
    error,
  };
}

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

/** Polls the file (real time, whatever the timers) until it holds `count` lines or 5 s pass. */
async function waitForLines(path: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = lines(path);
    if (got.length >= count || Date.now() > deadline) return got;
    await new Promise((r) => setImmediate(r));
  }
}

describe("request log", () => {
  it("writes its lines while open, not only when closed, in order", async () => {
    const path = join(tempDir(), "requests.log");
    const log = new RequestLog(path);
    try {
      for (let i = 0; i < 3; i++) log.write(line(i));
      const got = await waitForLines(path, 3);
      assert.deepEqual(
        got.map((l) => (JSON.parse(l) as RequestLogLine).e2e_ms),
        [0, 1, 2],
      );
    } finally {
      await log.close();
    }
  });

  it("writes a large batch at once, without waiting for its timer", async () => {
    const path = join(tempDir(), "requests.log");
    mock.timers.enable({ apis: ["setTimeout"] });
    const log = new RequestLog(path);
    try {
      // About 96 KiB of lines: past the batch's size bound, while the (mocked) timer never fires.
      const big = "x".repeat(1000);
      for (let i = 0; i < 96; i++) log.write(line(i, big));
      const got = await waitForLines(path, 40);
      assert.ok(got.length >= 40, `only ${got.length} of 96 lines written before the timer`);
      assert.ok(got.length < 96, "the lines after the size bound wait for the timer or close");
    } finally {
      mock.timers.reset();
      await log.close();
    }
    assert.equal(lines(path).length, 96, "close writes what was left");
  });
});
