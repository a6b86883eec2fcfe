import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, benchRun } from "../helpers/checked-run.js";
import { tempDir } from "../helpers/cli.js";
import { type LlamaCppLike, startLlamaCppLike } from "../helpers/llamacpp-server.js";

describe("a llama.cpp server's own metrics, on a level shorter than two seconds", () => {
  let server: LlamaCppLike;
  before(async () => {
    server = await startLlamaCppLike(10, 25);
  });
  after(() => server.close());

  it("reads its peak of running requests beside the client's exact in-flight peak, and its per-token times", async () => {
    const args = [
      "--url",
      server.url,
      "--model",
      "m",
      "-c",
      "4",
      "-n",
      "8",
      "--warmup",
      "0",
      "--baseline",
      "0",
    ];
    const run = await benchRun([...args, "-q"], tempDir());
    assertCleanExit(run, 0);
    assert.equal(server.peakProcessing(), 4);
    // biome-ignore lint/suspicious/noExplicitAny: summary.json read untyped.
    const level = (run.summary as any).levels[0];
    assert.ok(level.duration_s < 1.8, `a short level: ${level.duration_s} s`);
    assert.equal(level.in_flight_peak, 4, "the client's own count");
    assert.equal(
      level.server.running_peak,
      4,
      `sampled often enough: ${level.server.gauge_readings} readings`,
    );
    assert.ok(level.server.gauge_readings >= 3);
    // 25 ms per token, as the counters say, beside the client's TPOT.
    assert.ok(
      Math.abs(level.server.decode_ms_per_token - 25) < 0.01,
      String(level.server.decode_ms_per_token),
    );
    assert.ok(
      Math.abs(level.server.prefill_ms_per_token - 0.1) < 0.001,
      String(level.server.prefill_ms_per_token),
    );
    assert.match(run.stdout, /^c=4: peak running 4 \(server, \d+ readings\), 4 in flight \(client\)$/m);
    assert.match(
      run.stdout,
      /^c=4: server \(llamacpp\) decode 25\.0 ms\/token \(client TPOT p50 [\d.]+ ms\), prefill 0\.10 ms\/prompt token$/m,
    );
  });
});
