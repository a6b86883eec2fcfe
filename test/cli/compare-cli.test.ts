import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli, tempDir } from "../helpers/cli.js";

async function run(extra: string[]): Promise<string> {
  const out = tempDir();
  const r = await runCli([
    "bench",
    "--sim-preset",
    "fast",
    "-c",
    "2",
    "-n",
    "40",
    "--baseline",
    "0",
    "--out",
    out,
    "-q",
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return join(out, readdirSync(out)[0] as string);
}

describe("streamslo compare", () => {
  it("finds a real slowdown significant, and a re-run of the same setup not", async () => {
    const a = await run(["--sim-decode-ms", "1"]);
    const slower = await run(["--sim-decode-ms", "3"]);
    const md = join(tempDir(), "compare.md");
    const r = await runCli(["compare", a, slower, "--fail-on-regression", "--markdown", md]);
    assert.equal(r.code, 99, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /asked different things/, "only the endpoint changed");
    assert.match(r.stdout, /regression/);
    assert.match(r.stdout, /Mann-Whitney U/);
    assert.match(readFileSync(md, "utf8"), /\| c=2 \|/);
    const json = JSON.parse((await runCli(["compare", a, slower, "--json"])).stdout);
    const tpot = json.levels[0].metrics.find((m: { metric: string }) => m.metric === "tpot");
    assert.equal(tpot.verdict, "regression");
    assert.ok(tpot.change > 0.5, `TPOT change ${tpot.change}`);
    // The medians and p95s are those bench printed for the same runs.
    const summary = JSON.parse(readFileSync(join(slower, "summary.json"), "utf8")).levels[0];
    const ttft = json.levels[0].metrics.find((m: { metric: string }) => m.metric === "ttft");
    assert.equal(ttft.b.p50, summary.ttft_ms.p50);
    assert.equal(ttft.b.p95, summary.ttft_ms.p95);
    assert.match(r.stdout, /A p50\s+B p50\s+change\s+A p95\s+B p95/);
    const same = await runCli(["compare", a, a, "--fail-on-regression"]);
    assert.equal(same.code, 0, same.stdout);
    // A --markdown path that cannot be written is one line, before any table.
    const nowhere = await runCli(["compare", a, a, "--markdown", join(tempDir(), "no-such", "x.md")]);
    assert.equal(nowhere.code, 2);
    assert.equal(nowhere.stdout, "");
    assert.match(
      nowhere.stderr,
      /^streamslo: cannot use .*x\.md: no such file or folder \(ENOENT\); check the path\n$/,
    );
  });

  it("says when the two runs asked different things of the endpoint", async () => {
    const a = await run(["--max-tokens", "32"]);
    const b = await run(["--max-tokens", "48", "--no-stream"]);
    const r = await runCli(["compare", a, b]);
    assert.match(
      r.stderr,
      /^streamslo: the runs asked different things \(--stream true vs false, --max-tokens 32 vs 48\): a change may be the workload's, not the endpoint's$/m,
    );
  });

  it("a folder that is not a run exits 2 with one line", async () => {
    const r = await runCli(["compare", tempDir(), tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no summary\.json here; pass a folder written by streamslo bench/);
  });
});
