import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  compareRuns,
  grafanaDashboard,
  loadReportInput,
  parseSloYaml,
  prometheusRules,
  promtoolTests,
  readRun,
  reportMarkdown,
} from "../../src/index.js";
import { runCli, tempDir } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

// What a program does with the package: the same pieces the CLI is made of, from "streamslo" itself.
describe("the library API (src/index.ts)", () => {
  it("turns an SLO file into rules, their promtool tests and a dashboard", () => {
    const file = join(ROOT, "examples/slo-production.yaml");
    const spec = parseSloYaml(readFileSync(file, "utf8"), file).production;
    assert.ok(spec);
    const rules = prometheusRules(spec);
    assert.ok(rules.groups.some((g) => g.rules.some((r) => r.alert === "SLOErrorBudgetBurn")));
    assert.ok(promtoolTests(spec, "rules.yml").tests.length >= spec.slos.length);
    const dashboard = grafanaDashboard(spec) as { panels: unknown[] };
    assert.ok(dashboard.panels.length > 0);
  });

  it("reads a run folder into a report and a comparison", async () => {
    const out = tempDir();
    const bench = await runCli(["bench", "--sim-preset", "fast", "-c", "1,2", "-n", "8", "--out", out, "-q"]);
    assert.equal(bench.code, 0, bench.stderr);
    const dir = join(out, readdirSync(out)[0] as string);
    const input = await loadReportInput(dir);
    assert.deepEqual(
      input.levels.map((l) => l.summary.scenario),
      ["c=1", "c=2"],
    );
    assert.match(reportMarkdown(input, []), /^## SLO statement$/m);
    const run = await readRun(dir);
    const same = compareRuns(run, run);
    assert.deepEqual(
      same.levels.map((l) => l.scenario),
      ["c=1", "c=2"],
    );
  });
});
