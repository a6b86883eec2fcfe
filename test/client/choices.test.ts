import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, benchRun } from "../helpers/checked-run.js";
import { tempDir } from "../helpers/cli.js";
import {
  modelList,
  type ScheduledServer,
  type ScheduledWrite,
  startScheduledServer,
} from "../helpers/scheduled-server.js";

const TOKENS = 5;

function choiceChunk(index: number, text: string, finish: string | null = null): string {
  return JSON.stringify({ choices: [{ index, delta: { content: text }, finish_reason: finish }] });
}

/** Choice 1 starts first (at 50 ms) and choice 0 at 150 ms, each a token every 60 ms, interleaved. */
function twoChoices(): ScheduledWrite[] {
  const w: ScheduledWrite[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const last = i === TOKENS - 1 ? "stop" : null;
    w.push({ atMs: 50 + 60 * i, data: choiceChunk(1, `b${i}`, last) });
    w.push({ atMs: 150 + 60 * i, data: choiceChunk(0, `a${i}`, last) });
  }
  w.sort((a, b) => a.atMs - b.atMs);
  const end = 150 + 60 * TOKENS;
  w.push({
    atMs: end,
    data: JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 * TOKENS } }),
  });
  w.push({ atMs: end, data: "[DONE]" });
  return w;
}

describe("a stream with two choice indexes (n = 2)", () => {
  let server: ScheduledServer;
  before(async () => {
    server = await startScheduledServer((req) =>
      req.url?.endsWith("/models") ? modelList("m") : { writes: twoChoices() },
    );
  });
  after(() => server.close());

  it("measures choice 0 alone, and says so once", async () => {
    const run = await benchRun(
      ["--url", server.url, "--model", "m", "-c", "1", "-n", "3", "--warmup", "0", "--baseline", "0", "-q"],
      tempDir(),
    );
    assertCleanExit(run, 0);
    // biome-ignore lint/suspicious/noExplicitAny: read back untyped.
    for (const r of run.records as any[]) {
      assert.equal(r.outcome, "ok");
      assert.equal(r.choices, 2);
      assert.equal(r.outputTokens, TOKENS, "choice 0's tokens, not both choices' usage");
      const ttft = r.firstContentMs - r.startMs;
      assert.ok(
        ttft > 120 && ttft < 400,
        `TTFT ${ttft.toFixed(1)} ms is choice 0's (150 ms), not choice 1's (50)`,
      );
      const gaps = r.chunkTimesMs.slice(1).map((t: number, i: number) => t - r.chunkTimesMs[i]);
      for (const g of gaps) assert.ok(g > 35, `ITL ${g.toFixed(1)} ms is choice 0's 60 ms, not halved`);
    }
    const said = run.stderr.split("\n").filter((l) => l.includes("choices per request"));
    assert.equal(said.length, 1, run.stderr);
    assert.match(said[0] ?? "", /2 choices per request \(n > 1\); streamslo measures choice 0 alone/);
    // biome-ignore lint/suspicious/noExplicitAny: summary.json is read untyped.
    const level = (run.summary as any).levels[0];
    assert.equal(level.total_output_tokens, 3 * TOKENS);
  });
});

describe("--input-tokens against the server's own count of the prompt", () => {
  let promptTokens = 300;
  let server: ScheduledServer;
  before(async () => {
    server = await startScheduledServer((req) =>
      req.url?.endsWith("/models")
        ? modelList("m")
        : {
            writes: [
              { atMs: 5, data: choiceChunk(0, "a") },
              { atMs: 10, data: choiceChunk(0, "b", "stop") },
              {
                atMs: 10,
                data: JSON.stringify({
                  choices: [],
                  usage: { prompt_tokens: promptTokens, completion_tokens: 2 },
                }),
              },
              { atMs: 10, data: "[DONE]" },
            ],
          },
    );
  });
  after(() => server.close());
  const args = () => [
    "--url",
    server.url,
    "--model",
    "m",
    "--input-tokens",
    "128",
    "-c",
    "1",
    "-n",
    "3",
    "--warmup",
    "0",
    "--baseline",
    "0",
    "-q",
  ];

  it("warns when the server counted more than 10% off what was asked", async () => {
    promptTokens = 300;
    const run = await benchRun(args(), tempDir());
    assertCleanExit(run, 0);
    assert.match(
      run.stderr,
      /warning: c=1: prompts were meant to be about 128 tokens \(--input-tokens\), but the server counted 300 on average \(\+134%\)/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: summary.json is read untyped.
    assert.match((run.summary as any).warnings.join("\n"), /server counted 300/);
  });

  it("is quiet within 10%", async () => {
    promptTokens = 135;
    const run = await benchRun(args(), tempDir());
    assertCleanExit(run, 0);
    assert.doesNotMatch(run.stderr, /prompts were meant/);
  });
});
