import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  budgetConsumed,
  burnRateThreshold,
  DAY_MS,
  HOUR_MS,
  timeToExhaustionMs,
  WORKBOOK_WINDOWS,
} from "../../src/core/slo/burn-rate.js";
import { productionFromRaw } from "../../src/core/slo/production-spec.js";
import { burnAlerts } from "../../src/core/slo/prometheus-rules.js";
import { runCli, tempDir } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PROMTOOL = process.env.PROMTOOL_PATH ?? "/usr/bin/promtool";

function promtool(args: string[], cwd?: string) {
  assert.ok(existsSync(PROMTOOL), `promtool at ${PROMTOOL} (Debian package prometheus; .ci/run installs it)`);
  return spawnSync(PROMTOOL, args, { cwd, encoding: "utf8" });
}

describe("burn-rate arithmetic (Google SRE Workbook, Alerting on SLOs)", () => {
  const month = 30 * DAY_MS;

  it("14.4x for one hour spends 2% of a 30-day budget; 6x for 6 hours 5%; 1x lasts exactly the period", () => {
    assert.ok(Math.abs(budgetConsumed(14.4, HOUR_MS, month) - 0.02) < 1e-12);
    assert.ok(Math.abs(budgetConsumed(6, 6 * HOUR_MS, month) - 0.05) < 1e-12);
    assert.equal(timeToExhaustionMs(1, 1, month), month);
    assert.equal(timeToExhaustionMs(0.5, 2, month), month / 4);
  });

  it("derives the alert factors from the period: 14.4/6/3/1 at 30 days, 13.44/5.6/2.8/0.933 at 28", () => {
    const factors = (days: number) =>
      WORKBOOK_WINDOWS.map((w) => Number(burnRateThreshold(w, days * DAY_MS).toFixed(4)));
    assert.deepEqual(factors(30), [14.4, 6, 3, 1]);
    assert.deepEqual(factors(28), [13.44, 5.6, 2.8, 0.9333]);
    const spec = productionFromRaw(
      { window: "28d", slos: [{ name: "a", sli: "availability", objective: 99.9 }] },
      "x",
    );
    assert.ok(spec);
    assert.deepEqual(
      burnAlerts(spec).map((a) => [
        a.severity,
        a.pairs.map((p) => `${p.long}/${p.short}@${Number(p.factor.toFixed(4))}`),
      ]),
      [
        ["page", ["1h/5m@13.44", "6h/30m@5.6"]],
        ["ticket", ["1d/2h@2.8", "3d/6h@0.9333"]],
      ],
    );
  });
});

describe("streamslo rules", () => {
  for (const example of ["slo-production", "slo-vllm"]) {
    it(`${example}: matches its golden file, passes promtool check, and its generated unit tests pass`, async () => {
      const dir = tempDir();
      const rules = join(dir, "rules.yml");
      const tests = join(dir, "rules.test.yml");
      const r = await runCli([
        "rules",
        join(ROOT, "examples", `${example}.yaml`),
        "-o",
        rules,
        "--tests",
        tests,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const golden = readFileSync(join(ROOT, "test/fixtures/rules", `${example}.rules.yml`), "utf8");
      assert.equal(
        readFileSync(rules, "utf8"),
        golden,
        `regenerate with: npx streamslo rules examples/${example}.yaml > test/fixtures/rules/${example}.rules.yml`,
      );
      const check = promtool(["check", "rules", rules]);
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /SUCCESS: \d+ rules found/);
      const test = promtool(["test", "rules", "rules.test.yml"], dir);
      assert.equal(test.status, 0, test.stdout + test.stderr);
      // The generated tests cover a clean stretch, a fast burn, a slow burn and missing data.
      const text = readFileSync(tests, "utf8");
      for (const name of [
        "a clean stretch fires nothing",
        "a fast burn pages within the hour",
        "a slow burn opens a ticket",
        "no SLI data",
      ]) {
        assert.ok(text.includes(name), name);
      }
    });
  }

  it("source vllm: every vLLM series is narrowed to the deployment by the selector", () => {
    const text = readFileSync(join(ROOT, "test/fixtures/rules/slo-vllm.rules.yml"), "utf8");
    const series = [...text.matchAll(/(?:vllm:[a-z0-9_]+|http_requests_total)(\{[^}]*\})?/g)];
    assert.ok(series.length > 10);
    for (const [s, labels] of series) assert.match(labels ?? "", /job="vllm-llama-8b"/, s);
  });

  it("source vllm: TPOT reads vLLM's per-request TPOT histogram, ITL its per-gap one; promtool passes both", async () => {
    const dir = tempDir();
    const file = join(dir, "slo.yaml");
    const slo = (name: string, threshold: string) =>
      `  - { name: ${name}, sli: latency, metric: ${name}, threshold: ${threshold}, objective: 99 }\n`;
    writeFileSync(
      file,
      `service: x\nsource: vllm\nselector: { job: v }\nslos:\n${slo("tpot", "75ms")}${slo("itl", "100ms")}`,
    );
    const rules = join(dir, "rules.yml");
    const r = await runCli(["rules", file, "-o", rules, "--tests", join(dir, "rules.test.yml")]);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(rules, "utf8");
    assert.match(text, /vllm:request_time_per_output_token_seconds_bucket\{job="v",le="0\.075"\}/);
    assert.match(text, /vllm:request_time_per_output_token_seconds_count\{job="v"\}/);
    assert.match(text, /vllm:inter_token_latency_seconds_bucket\{job="v",le="0\.1"\}/);
    assert.doesNotMatch(text, /inter_token_latency_seconds_bucket\{job="v",le="0\.075"\}/);
    const test = promtool(["test", "rules", "rules.test.yml"], dir);
    assert.equal(test.status, 0, test.stdout + test.stderr);
    writeFileSync(file, `service: x\nsource: vllm\nslos:\n${slo("tpot", "60ms")}`);
    const off = await runCli(["rules", file]);
    assert.equal(off.code, 2);
    assert.match(
      off.stderr,
      /not a bucket boundary of vllm:request_time_per_output_token_seconds.*use 50ms or 75ms/,
    );
  });

  it("rules carry every window the alerts need, the meta rules, and the runbook", () => {
    const text = readFileSync(join(ROOT, "test/fixtures/rules/slo-production.rules.yml"), "utf8");
    for (const w of ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"])
      assert.ok(text.includes(`record: slo:sli_error:ratio_rate${w}\n`), w);
    for (const m of [
      "slo:objective:ratio",
      "slo:error_budget:ratio",
      "slo:current_burn_rate:ratio",
      "slo:period_burn_rate:ratio",
      "slo:period_error_budget_remaining:ratio",
    ]) {
      assert.ok(text.includes(`record: ${m}`), m);
    }
    assert.match(text, /streamslo_ttft_seconds_bucket\{service="chat-assistant",le="0\.3"\}/);
    assert.match(text, /runbook_url: https:\/\/runbooks\.example\.com\/chat-assistant/);
    assert.match(text, /severity: page/);
    assert.match(text, /alert: SLOMetricsAbsent/);
  });

  it("a latency threshold off the bucket boundaries, or a file without slos, exits 2 saying what to do", async () => {
    const dir = tempDir();
    const file = join(dir, "slo.yaml");
    writeFileSync(
      file,
      "service: x\nslos:\n  - name: ttft\n    sli: latency\n    metric: ttft\n    threshold: 250ms\n    objective: 99\n",
    );
    // The same check and the same exit in every command that reads the file's production SLOs.
    for (const args of [
      ["rules", file],
      ["dashboard", file],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(
        r.stderr,
        /threshold 250ms is not a bucket boundary of streamslo_ttft_seconds.*use 200ms or 300ms/,
      );
    }
    writeFileSync(file, "request:\n  ttft: 1s\n");
    const none = await runCli(["rules", file]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no "slos:" list/);
    writeFileSync(file, "slos:\n  - name: a\n    sli: uptime\n    objective: 99\n");
    const bad = await runCli(["rules", file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /slos\[0\]\.sli: .*availability.*drops.*latency/);
    writeFileSync(file, "slos:\n  - name: a\n    sli: availability\n    objective: 100\n");
    const hundred = await runCli(["rules", file]);
    assert.equal(hundred.code, 2);
    assert.match(hundred.stderr, /slos\[0\]\.objective/);
    const refused: [string, RegExp][] = [
      [
        "service: s\nslos:\n  - {name: a, sli: availability, objective: 0.999}\n",
        /objective: 0\.999 is read as a percentage \(0\.999%\); for 99\.9% write 99\.9/,
      ],
      [
        "service: s\nwindow: 3d\nslos:\n  - {name: a, sli: availability, objective: 99}\n",
        /no longer than the 3d ticket alert window/,
      ],
      [
        "service: s\nlabels: {cost-center: x}\nslos:\n  - {name: a, sli: availability, objective: 99}\n",
        /labels: "cost-center" is not a Prometheus label name/,
      ],
      [
        'name: chat "a" v2\nslos:\n  - {name: a, sli: availability, objective: 99}\n',
        /would be the service label/,
      ],
    ];
    for (const [yaml, message] of refused) {
      writeFileSync(file, yaml);
      const r = await runCli(["rules", file]);
      assert.equal(r.code, 2, yaml);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  });

  it("label values with quotes and backslashes are escaped: promtool parses the rules and passes their tests", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "slo.yaml"),
      "service: chat.v2:prod\nlabels:\n  team: 'ml \"platform\" \\ infra'\nslos:\n  - {name: a, sli: availability, objective: 99.9}\n",
    );
    const r = await runCli([
      ...[
        "rules",
        join(dir, "slo.yaml"),
        "-o",
        join(dir, "rules.yml"),
        "--tests",
        join(dir, "rules.test.yml"),
      ],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(dir, "rules.yml"), "utf8"), /team="ml \\"platform\\" \\\\ infra"/);
    const check = promtool(["check", "rules", "rules.yml"], dir);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const test = promtool(["test", "rules", "rules.test.yml"], dir);
    assert.equal(test.status, 0, test.stdout + test.stderr);
  });
});
