import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSloYaml } from "../../src/core/slo-spec.js";
import { runCli, tempDir } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("OpenSLO import", () => {
  it("maps a ratioMetric SLO with an indicatorRef, a 28-day rolling window and a target", () => {
    const spec = parseSloYaml(readFileSync(join(ROOT, "examples/openslo.yaml"), "utf8"), "openslo.yaml");
    const p = spec.production;
    assert.ok(p);
    assert.equal(p.service, "chat-assistant");
    assert.equal(p.period, "28d");
    assert.equal(p.source, "promql");
    assert.deepEqual(
      p.slos.map((s) => [s.name, s.sli, s.objective]),
      [["availability-strict", "ratio", 0.999]],
    );
    assert.match(p.slos[0]?.good ?? "", /outcome="ok"/);
  });

  it("says which OpenSLO features do not map", () => {
    const threshold =
      "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  indicator:\n    spec:\n      thresholdMetric: {}\n  objectives: [{target: 0.99}]\n";
    assert.throws(() => parseSloYaml(threshold, "o.yaml"), /only ratioMetric SLIs map to streamslo/);
    const timeslices =
      "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  budgetingMethod: Timeslices\n";
    assert.throws(() => parseSloYaml(timeslices, "o.yaml"), /budgets by Occurrences/);
  });
});

describe("streamslo budget and dashboard", () => {
  it("budget: a run with injected errors spends budget, and the would-be alerts are listed with times", async () => {
    const out = tempDir();
    const bench = await runCli([
      "bench",
      "--sim-preset",
      "fast",
      "-c",
      "4",
      "-n",
      "150",
      "--fault-5xx",
      "0.05",
      "--baseline",
      "0",
      "--out",
      out,
      "-q",
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const dir = join(out, readdirSync(out)[0] as string);
    const r = await runCli([
      "budget",
      dir,
      "--slo",
      join(ROOT, "examples/slo-production.yaml"),
      "--time-scale",
      "60",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^availability\s+99\.9%\s+150\s+\d+\s/m);
    assert.match(r.stdout, /^availability\s+page\s+1h\/5m\s+> 14\.4x\s+\+/m);
    assert.match(r.stdout, /^ttft\s+-\s+-\s+-\s+no alert would have fired$/m);
    assert.ok(existsSync(join(dir, "charts", "budget-burn-down.svg")));
    const report = await runCli([
      "report",
      dir,
      "--slo",
      join(ROOT, "examples/slo-production.yaml"),
      "--time-scale",
      "60",
    ]);
    assert.equal(report.code, 0, report.stderr);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /^## Error budget$/m);
    assert.match(md, /!\[Error budget burn-down\]\(charts\/budget-burn-down\.svg\)/);
    const json = await runCli(["budget", dir, "--slo", join(ROOT, "examples/slo-production.yaml"), "--json"]);
    const doc = JSON.parse(json.stdout);
    const availability = doc.find((x: { slo: string }) => x.slo === "availability");
    assert.equal(availability.totals.events, 150);
    assert.ok(availability.totals.bad > 0 && availability.totals.consumed > 0);
  });

  it("budget and report refuse options the rest of the command line would ignore", async () => {
    const slo = join(ROOT, "examples/slo-production.yaml");
    const cases: [string[], RegExp][] = [
      [["budget", "runs/x", "--slo", slo, "--range", "3d"], /--range acts only with --prometheus/],
      [
        ["budget", "--slo", slo, "--prometheus", "http://127.0.0.1:9", "--time-scale", "60"],
        /--time-scale applies to a run folder, not to --prometheus: drop it/,
      ],
      [
        ["budget", "runs/x", "--slo", slo, "--prometheus", "http://127.0.0.1:9"],
        /give a run folder or --prometheus, not both/,
      ],
      [["report", "runs/x", "--time-scale", "60"], /--time-scale acts only with --slo: add it, or drop it/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });

  it("dashboard: Grafana JSON whose template variables use the rules' label names", async () => {
    const r = await runCli(["dashboard", join(ROOT, "examples/slo-production.yaml")]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(
      d.templating.list.map((v: { name: string }) => v.name),
      ["datasource", "service", "model", "route"],
    );
    const exprs = JSON.stringify(d.panels);
    assert.match(
      exprs,
      /slo:period_error_budget_remaining:ratio\{slo=\\"availability\\",service=\\"\$service\\"\}/,
    );
    const file = join(tempDir(), "slo.yaml");
    writeFileSync(file, "request:\n  ttft: 1s\n");
    const none = await runCli(["dashboard", file]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no "slos:" list/);
    // The file is an argument here, not a --slo flag, and an inline objective is no file.
    const missing = await runCli(["dashboard", join(tempDir(), "nope.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^streamslo: cannot read the SLO file .*nope\.yaml: no such file; pass a file with production "slos:"/,
    );
  });
});
