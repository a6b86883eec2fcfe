import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { assertCleanExit, assertRunInvariants, collectWithPeak, readRun } from "../helpers/checked-run.js";
import { runCli, spawnCli, tempDir } from "../helpers/cli.js";

const PRODUCTION_SLO = fileURLToPath(new URL("../../../examples/slo-production.yaml", import.meta.url));

/** About 24 x 15 ms per request: slow enough that a signal always finds requests in flight. */
const SLOWISH = ["--sim-preset", "fast", "--sim-decode-ms", "15", "--output-tokens", "24"];

/** Lines in the run's requests.jsonl so far (0 before the run folder exists). */
function linesSoFar(out: string): number {
  const [dir] = existsSync(out) ? readdirSync(out) : [];
  const file = dir === undefined ? "" : join(out, dir, "requests.jsonl");
  if (!file || !existsSync(file)) return 0;
  return readFileSync(file, "utf8").split("\n").length - 1;
}

async function untilLines(out: string, n: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (linesSoFar(out) < n) {
    assert.equal(child.exitCode, null, "bench is still running");
    assert.ok(Date.now() < deadline, `${n} records within 30 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts bench, waits until `after` records are on disk, sends the signals, and reads the run. */
async function interrupted(args: string[], after: number, signals: NodeJS.Signals[]) {
  const out = tempDir();
  const child = spawnCli(["bench", ...SLOWISH, ...args, "--out", out]);
  const done = collectWithPeak(child);
  await untilLines(out, after, child);
  for (const s of signals) child.kill(s);
  return readRun(out, await done);
}

describe("bench interrupted mid-run", { concurrency: 2 }, () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: exit 130, everything measured so far written in whole lines`, async () => {
      const run = await interrupted(["-c", "4", "-n", "400", "--warmup", "0", "--baseline", "0"], 8, [
        signal,
      ]);
      assertCleanExit(run, 130);
      assert.match(run.stderr, /^interrupted: aborting in-flight requests and writing results$/m);
      assert.equal(run.summary.interrupted, true);
      assertRunInvariants(run);
      const aborted = run.records.filter((r) => r.error?.code === "aborted");
      assert.ok(aborted.length >= 1 && aborted.length <= 4, `${aborted.length} in flight were aborted`);
      for (const r of aborted) assert.equal(r.outcome, "aborted", "the file says what the summary does");
      const level = run.summary.levels[0];
      assert.ok(level && level.n >= 8 && level.n < 400, `n = ${level?.n}`);
      for (const f of ["summary.csv", "summary.md", "run.json"]) assert.ok(existsSync(join(run.dir, f)), f);
    });
  }

  it("during the baseline, before any level: exit 130, the baseline records kept", async () => {
    const run = await interrupted(["-c", "2", "-n", "8", "--baseline", "5"], 1, ["SIGTERM"]);
    assertCleanExit(run, 130);
    assert.equal(run.summary.interrupted, true);
    assert.deepEqual(run.summary.levels, []);
    assert.ok(run.records.length >= 1 && run.records.every((r) => r.phase === "baseline"));
    assertRunInvariants(run);
  });

  it("Ctrl-C pressed twice at once: still one clean stop", async () => {
    const run = await interrupted(["-c", "4", "-n", "400", "--warmup", "0", "--baseline", "0"], 4, [
      "SIGINT",
      "SIGINT",
    ]);
    assertCleanExit(run, 130);
    assert.equal(run.stderr.match(/^interrupted:/gm)?.length, 1);
    assertRunInvariants(run);
  });

  it("during the pre-flight /v1/models: exit 130, nothing sent, no run folder", async () => {
    let generations = 0;
    let preflightSeen: () => void = () => {};
    const preflight = new Promise<void>((resolve) => {
      preflightSeen = resolve;
    });
    const server = createServer((req, res) => {
      if (req.url?.endsWith("/models")) {
        preflightSeen();
        // A pre-flight that would take a minute: the signal lands while bench waits for it.
        const t = setTimeout(() => res.end(JSON.stringify({ object: "list", data: [{ id: "m" }] })), 60_000);
        res.on("close", () => clearTimeout(t));
      } else if (req.method === "POST") {
        generations++;
        res.writeHead(500).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const out = tempDir();
      const child = spawnCli(["bench", "--url", `http://127.0.0.1:${port}/v1`, "-n", "2", "--out", out]);
      const done = collectWithPeak(child);
      // Signal only once the pre-flight is in flight: a slow machine may take longer to start bench.
      const noPreflight = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await Promise.race([preflight, done]);
      clearTimeout(noPreflight);
      assert.equal(child.exitCode, null, "bench sent its pre-flight and is waiting for it");
      const killedAt = performance.now();
      child.kill("SIGTERM");
      const r = await done;
      assertCleanExit(r, 130);
      // Without cutting the request short, bench would wait out its 15 s pre-flight timeout.
      assert.ok(performance.now() - killedAt < 10_000, "the pre-flight request was cut short");
      assert.match(r.stderr, /interrupted: stopping before the first request/);
      assert.equal(generations, 0, "no load was sent");
      assert.equal(existsSync(out) ? readdirSync(out).length : 0, 0, "no run folder");
    } finally {
      server.close();
    }
  });
});

describe("bench killed outright (SIGKILL, out of memory)", () => {
  it("report, budget and compare rebuild what they can from requests.jsonl, and say the run did not finish", async () => {
    const out = tempDir();
    const child = spawnCli([
      "bench",
      ...SLOWISH,
      "-c",
      "1,2",
      "-n",
      "6",
      "--warmup",
      "0",
      "--baseline",
      "0",
      "--out",
      out,
    ]);
    const done = collectWithPeak(child);
    // Past the first level (6 records), into the second.
    await untilLines(out, 8, child);
    child.kill("SIGKILL");
    const killed = await done;
    assert.equal(killed.signal, "SIGKILL");
    const dir = join(out, readdirSync(out)[0] as string);
    assert.equal(existsSync(join(dir, "summary.json")), false, "the kill came before summary.json");
    const said =
      /has no summary\.json: the run did not finish \(killed, or out of memory\); rebuilt 2 level\(s\)/;

    const report = await runCli(["report", dir]);
    assertCleanExit(report, 0);
    assert.match(report.stderr, said);
    assert.equal(report.stderr.match(/has no summary\.json/g)?.length, 1, "said once");
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /## Run stopped early/);
    assert.match(md, /it did not finish: the process was killed/);
    assert.match(md, /Concurrency 2 was cut short after \d of its 6 requests/);

    const budget = await runCli(["budget", dir, "--slo", PRODUCTION_SLO]);
    assertCleanExit(budget, 0);
    assert.match(budget.stderr, said);

    const compare = await runCli(["compare", dir, dir]);
    assertCleanExit(compare, 0);
    assert.match(compare.stdout, /c=1/);
  });
});
