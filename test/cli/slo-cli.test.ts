import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { sloJsonSchema } from "../../src/core/slo-schema.js";
import { runCli, tempDir } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const fast = ["bench", "--sim-preset", "fast", "--warmup", "0"];

// biome-ignore lint/suspicious/noExplicitAny: summary.json is read as the user would, untyped.
function summaryOf(out: string): Record<string, any> {
  const [dir] = readdirSync(out);
  return JSON.parse(readFileSync(join(out, dir as string, "summary.json"), "utf8"));
}

describe("the SLO gate", () => {
  it("exits 0 when every objective holds, 99 when one fails, and shows each with its observed value", async () => {
    const pass = await runCli([
      ...fast,
      "-c",
      "2",
      "-n",
      "8",
      "--slo",
      "ttft p(95) < 5s",
      "--slo",
      "goodput >= 0.9",
      "--slo",
      "error_rate < 1%",
      "--out",
      tempDir(),
    ]);
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stdout, /^ttft p\(95\) < 5s\s+[\d.]+ pass$/m);
    assert.match(pass.stdout, /^goodput >= 0.9\s+1 pass$/m);
    // A rate written as a percentage is shown as one.
    assert.match(pass.stdout, /^error_rate < 1%\s+0% pass$/m);

    const out = tempDir();
    const fail = await runCli([
      ...fast,
      "-c",
      "1,2",
      "-n",
      "6",
      "--slo",
      "ttft p(50) < 0.01ms",
      "--out",
      out,
    ]);
    assert.equal(fail.code, 99);
    assert.match(fail.stdout, /^ttft p\(50\) < 0.01ms\s+[\d.]+ FAIL\s+[\d.]+ FAIL$/m);
    assert.match(fail.stderr, /SLO failed at c=1, c=2/);
    const s = summaryOf(out);
    assert.equal(s.slo_pass, false);
    assert.equal(s.levels[0].objectives[0].pass, false);
    assert.ok(s.levels[0].objectives[0].observed > 0.01);
  });

  it("abortOnFail stops the run early with exit 99, and the records so far are written", async () => {
    const dir = tempDir();
    const slo = join(dir, "slo.yaml");
    writeFileSync(
      slo,
      'objectives:\n  - threshold: "error_rate < 1%"\n    abortOnFail: true\n    abortAfter: 10\n',
    );
    const out = join(dir, "runs");
    const r = await runCli([
      ...fast,
      "-c",
      "2",
      "-n",
      "200",
      "--fault-5xx",
      "0.5",
      "--slo",
      slo,
      "--out",
      out,
    ]);
    assert.equal(r.code, 99);
    assert.match(r.stderr, /objective "error_rate < 1%" failed \(abortOnFail\): run stopped/);
    const s = summaryOf(out);
    assert.equal(s.stop_reason.kind, "abort-on-fail");
    assert.ok(s.levels[0].n < 200, `stopped after ${s.levels[0].n} requests`);
    const [runDir] = readdirSync(out);
    const lines = readFileSync(join(out, runDir as string, "requests.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.ok(lines.length >= 10 && lines.length < 200);
  });

  it("names every request's missed criteria, goodput, fluidity and playback in the outputs", async () => {
    const out = tempDir();
    const r = await runCli([
      ...fast,
      "-c",
      "4",
      "-n",
      "20",
      "--slo",
      join(ROOT, "examples/slo.yaml"),
      "--json",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout).levels[0];
    assert.equal(l.goodput.good, 20);
    assert.equal(l.goodput.share, 1);
    assert.equal(l.fluidity.count, 20);
    assert.equal(l.perceived_ttft_ms.count, 20);
    assert.ok(l.perceived_ttft_ms.p50 >= l.ttft_ms.p50, "a buffering reader starts after the first token");
    assert.equal(typeof l.validity.loop_lag_p99_ms, "number");
    const [dir] = readdirSync(out);
    const rec = JSON.parse(
      readFileSync(join(out, dir as string, "requests.jsonl"), "utf8")
        .split("\n")
        .find((x) => x.includes('"measure"')) as string,
    );
    assert.deepEqual(rec.slo, { good: true, missed: [] });
  });

  it("reports model quality x infrastructure when answers are checked", async () => {
    const dir = tempDir();
    const slo = join(dir, "slo.yaml");
    // The simulator answers in plain words: a check for "the" passes about as often as "the" is drawn.
    writeFileSync(
      slo,
      "request:\n  output:\n    regex: '\\bthe\\b'\nobjectives:\n  - 'quality_pass_rate >= 0'\n",
    );
    const r = await runCli([
      ...fast,
      "-c",
      "4",
      "-n",
      "40",
      "--max-tokens",
      "6",
      "--fault-5xx",
      "0.1",
      "--slo",
      slo,
      "--json",
      "--out",
      join(dir, "o"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const q = JSON.parse(r.stdout).levels[0].quality;
    assert.ok(q.checked > 0 && q.passed > 0 && q.passed < q.checked, JSON.stringify(q));
    assert.ok(Math.abs(q.e2e_quality - q.pass_rate * q.infra_success_rate) < 1e-12);
    assert.ok(q.infra_success_rate < 1);
  });

  it("bad SLO input exits 2 before any load, naming the field", async () => {
    const dir = tempDir();
    const slo = join(dir, "bad.yaml");
    writeFileSync(slo, "request:\n  ttft: soon\n");
    const bad = await runCli([...fast, "--slo", slo, "--out", dir]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /bad\.yaml: request\.ttft: expected a duration like "300ms"/);
    const inline = await runCli([...fast, "--slo", "ttft < 3", "--out", dir]);
    assert.equal(inline.code, 2);
    assert.match(inline.stderr, /ttft needs an aggregation such as p\(95\)/);
    const missing = await runCli([...fast, "--slo", join(dir, "nope.yaml"), "--out", dir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --slo .*nope\.yaml: no such file or folder \(ENOENT\)/);
    const capacity = await runCli([...fast, "--find-capacity", "--out", dir]);
    assert.equal(capacity.code, 2);
    assert.match(capacity.stderr, /--find-capacity needs objectives/);
    const both = await runCli([...fast, "-c", "1", "--rate", "2", "--out", dir]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /use only one of --concurrency, --rate/);
    assert.equal(
      readdirSync(dir).filter((f) => f.startsWith("2")).length,
      0,
      "no run folder: nothing was sent",
    );
  });

  it("an SLO file with nothing to judge (empty, comments only, a name only) is exit 2 in every command that takes one", async () => {
    const dir = tempDir();
    const blanks = {
      "empty.yaml": "",
      "comments.yaml": "# objectives to come\n",
      "name.yaml": "name: chat\n",
    };
    const run = tempDir();
    const made = await runCli([...fast, "-c", "1", "-n", "2", "--baseline", "0", "--out", run, "-q"]);
    assert.equal(made.code, 0, made.stderr);
    const runDir = join(run, readdirSync(run)[0] as string);
    for (const [name, text] of Object.entries(blanks)) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const commands = [
        [...fast, "--slo", file, "--out", dir],
        ["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--slo", file],
        ["rules", file],
        ["dashboard", file],
        ["budget", runDir, "--slo", file],
        ["report", runDir, "--slo", file],
      ];
      for (const args of commands) {
        const r = await runCli(args);
        assert.equal(r.code, 2, `${args[0]} ${name}: exit ${r.code}\n${r.stderr}`);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `${args[0]} ${name}: one line\n${r.stderr}`);
        assert.match(lines[0] ?? "", new RegExp(name.replace(".", "\\.")), `${args[0]} names the file`);
      }
    }
    assert.equal(
      readdirSync(dir).filter((f) => f.startsWith("2")).length,
      0,
      "no run folder: nothing was sent",
    );
  });

  it("publishes the SLO file's JSON Schema, and the committed copy is current", async () => {
    const r = await runCli(["schema"]);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), sloJsonSchema());
    assert.deepEqual(
      JSON.parse(readFileSync(join(ROOT, "schema/slo.schema.json"), "utf8")),
      sloJsonSchema(),
      "run: npx streamslo schema > schema/slo.schema.json",
    );
  });
});

describe("open loop, sweeps, datasets and capacity from the command line", () => {
  it("--rate runs open-loop levels and reports achieved rate and send lag", async () => {
    const r = await runCli([
      ...fast,
      "--rate",
      "40",
      "-n",
      "30",
      "--arrivals",
      "constant",
      "--json",
      "--out",
      tempDir(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout).levels[0];
    assert.equal(l.scenario, "rate=40");
    assert.ok(Math.abs(l.achieved_rate - 40) / 40 < 0.1, `achieved ${l.achieved_rate}`);
    assert.equal(typeof l.send_lag_ms.p99, "number");
    assert.equal(typeof l.ttft_queued_ms.p95, "number");
  });

  it("open loop: time queued behind --max-concurrency counts against goodput, and the warning names the cap", async () => {
    const out = tempDir();
    const slo = join(out, "q.yaml");
    writeFileSync(slo, 'request:\n  ttft: 300ms\nobjectives: ["goodput >= 0.95"]\n');
    // 10 req/s of ~100 ms requests through one slot: each waits for the ones before it
    const r = await runCli([
      ...["bench", "--rate", "10", "-n", "30", "--max-concurrency", "1", "--max-tokens", "16", "--seed", "1"],
      ...["--slo", slo, "--json", "--out", out],
    ]);
    assert.equal(r.code, 99, r.stderr);
    const l = JSON.parse(r.stdout).levels[0];
    assert.ok(l.ttft_ms.p95 < 300, `sent requests are fast: TTFT p95 ${l.ttft_ms.p95} ms`);
    assert.ok(l.ttft_queued_ms.p95 > 300, `queued: ${l.ttft_queued_ms.p95} ms`);
    assert.ok(l.goodput.share < 0.95, `goodput ${l.goodput.share}`);
    assert.ok(l.goodput.missed_by.ttft > 0);
    // The client kept up: the measurement is valid, the cap's queue a note on it.
    assert.equal(l.validity.valid, true);
    assert.match(l.validity.warnings.join("\n"), /waiting for one of the --max-concurrency 1 slots/);
  });

  it("shows the achieved rate and send lag beside the offered rate in the table, CSV and Markdown", async () => {
    const out = tempDir();
    const r = await runCli([...fast, "--rate", "40", "-n", "20", "--arrivals", "constant", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^level\s+n\s.*\s+sent\/s\s+lag p99$/m);
    const row = (r.stdout.match(/^rate=40.*$/m) ?? [""])[0].trim().split(/\s+/);
    const sent = Number(row.at(-2));
    assert.ok(Math.abs(sent - 40) / 40 < 0.1, `sent/s ${sent}`);
    const [dir] = readdirSync(out);
    const [header, first] = readFileSync(join(out, dir as string, "summary.csv"), "utf8").split("\n");
    const cols = (header as string).split(",");
    const achieved = Number((first as string).split(",")[cols.indexOf("achieved_rate")]);
    assert.ok(Math.abs(achieved - 40) / 40 < 0.1, `achieved_rate ${achieved}`);
    assert.match(
      readFileSync(join(out, dir as string, "summary.md"), "utf8"),
      /^\| mode \| rate \| achieved_rate \| send_lag_p99_ms \| concurrency \|/m,
    );
  });

  it("--duration alone runs each level for that long; with -n the count bounds it too", async () => {
    const run = async (...extra: string[]) => {
      const args = [...fast, "--rate", "60", "--arrivals", "constant", "--duration", "1s", ...extra];
      const r = await runCli([...args, "--json", "--out", tempDir()]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).levels[0].n;
    };
    // 60/s for 1 s: about 60 measured requests, past the default count of 32.
    const timed = await run();
    assert.ok(timed >= 50 && timed <= 62, `measured ${timed}`);
    assert.equal(await run("-n", "20"), 20);
  });

  it("--sweep auto runs the synchronous and saturated probes, then rates between", async () => {
    const r = await runCli([
      ...fast,
      "--sweep",
      "auto",
      "--sweep-levels",
      "2",
      "--sweep-max-concurrency",
      "16",
      "-n",
      "16",
      "--json",
      "--out",
      tempDir(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const levels = JSON.parse(r.stdout).levels;
    assert.deepEqual(
      levels.map((l: { scenario: string }) => l.scenario.split("=")[0]),
      ["c", "c", "rate", "rate"],
    );
    const [sync, sat, r1, r2] = levels;
    assert.ok(sync.request_throughput < r1.rate && r1.rate < r2.rate && r2.rate < sat.request_throughput);
    // Fewer measured requests than streams would measure part of a wave: it saturates with -n streams.
    const clamped = await runCli([
      ...fast,
      ...["--sweep", "auto", "--sweep-levels", "1", "--sweep-max-concurrency", "16", "-n", "8", "--json"],
      ...["--out", tempDir()],
    ]);
    assert.equal(clamped.code, 0, clamped.stderr);
    assert.match(
      clamped.stderr,
      /--sweep auto saturates at c=8, not 16: -n 8 requests cannot fill more streams/,
    );
    assert.equal(JSON.parse(clamped.stdout).levels[1].scenario, "c=8");
  });

  it("--dataset reads ShareGPT and sends each prompt with its reply's length", async () => {
    const dir = tempDir();
    const file = join(dir, "sharegpt.json");
    writeFileSync(
      file,
      JSON.stringify([
        {
          conversations: [
            { from: "human", value: "Name a color." },
            { from: "gpt", value: "Blue is one." },
          ],
        },
        {
          conversations: [
            { from: "human", value: "Count to three." },
            { from: "gpt", value: "One, two, three, done." },
          ],
        },
      ]),
    );
    const r = await runCli([
      ...fast,
      "-c",
      "1",
      "-n",
      "4",
      "--dataset",
      file,
      "--json",
      "--out",
      join(dir, "o"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout).levels[0];
    // 12 and 22 characters: 3 and 6 estimated tokens, sent as exact lengths.
    assert.deepEqual([l.output_tokens.min, l.output_tokens.max], [3, 6]);
  });

  it("--find-capacity prints the answer and the loads it tried", async () => {
    const r = await runCli([
      ...fast,
      "--sim-slots",
      "4",
      "--sim-decode-ms",
      "3",
      "--sim-decode-ms-per-seq",
      "0",
      "--find-capacity",
      "--capacity-mode",
      "concurrency",
      "--slo",
      "ttft p(90) < 30ms",
      "-n",
      "25",
      "--output-tokens",
      "20",
      // The search is under test, not the client's health: a busy CI machine must not void a level.
      "--max-loop-lag-ms",
      "1000",
      "--out",
      tempDir(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^capacity at SLO: 4 concurrent requests \(fails at 5\)$/m);
    // With 4 slots, a fifth user waits a whole answer (~60 ms) for a slot every fifth request.
    assert.match(r.stdout, /^\s+8 FAIL \(ttft p\(90\) < 30ms\)$/m);
  });

  it("--find-capacity resting on an INVALID load says so and exits 5, not 99; advice the CLI accepts", async () => {
    const search = ["--find-capacity", "--slo", "ttft p(90) < 10s", "-n", "6", "--output-tokens", "4"];
    // A send-lag limit of 0 ms voids every open-loop level: the client, not the endpoint, is judged.
    const invalid = await runCli([
      ...fast,
      ...search,
      "--capacity-start",
      "2",
      "--max-send-lag-ms",
      "0",
      "--out",
      tempDir(),
    ]);
    assert.equal(invalid.code, 5, invalid.stderr);
    assert.match(
      invalid.stdout,
      /^capacity at SLO: unknown: the first load tried \(2 req\/s\) was not a valid measurement \(requests left [\d.]+ ms late/m,
    );
    assert.doesNotMatch(invalid.stdout, /capacity at SLO: none/);
    assert.match(invalid.stderr, /no capacity verdict: the load it rests on \(rate=2\) is INVALID/);
    // A first load that truly fails: exit 99, and advice that can be followed.
    const one = await runCli([
      ...fast,
      "--find-capacity",
      "--capacity-mode",
      "concurrency",
      "--slo",
      "ttft p(50) < 0.001ms",
      "-n",
      "4",
      "--max-loop-lag-ms",
      "1000",
      "--out",
      tempDir(),
    ]);
    assert.equal(one.code, 99, one.stderr);
    assert.match(
      one.stdout,
      /^capacity at SLO: none: the first load tried \(1 concurrent request\) already fails$/m,
    );
    assert.match(one.stdout, /even one stream at a time fails: no concurrency meets the SLO/);
    assert.doesNotMatch(one.stdout, /lower --capacity-start/);
  });
});
