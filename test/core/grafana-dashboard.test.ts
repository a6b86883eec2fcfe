import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { MODEL_LABEL, ROUTE_LABEL, RULES, SERVICE_LABEL, SLO_LABEL } from "../../src/core/slo/conventions.js";
import { grafanaDashboard } from "../../src/core/slo/grafana-dashboard.js";
import {
  type MetricSource,
  type ProductionSpec,
  productionFromRaw,
} from "../../src/core/slo/production-spec.js";

// Debian's package "prometheus" ships it; PROMTOOL points elsewhere.
const PROMTOOL = process.env.PROMTOOL ?? "/usr/bin/promtool";

interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  options?: { alertName?: string; alertInstanceLabelFilter?: string };
  fieldConfig?: {
    defaults: { color?: { mode: string }; thresholds: { steps: { color: string; value: number | null }[] } };
  };
}

interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  current: { text?: unknown; value?: unknown };
}

function spec(window = "30d", source?: MetricSource): ProductionSpec {
  const raw = {
    service: "chat",
    window,
    source,
    slos: [
      { name: "availability", sli: "availability" as const, objective: 99.9 },
      { name: "ttft", sli: "latency" as const, metric: "ttft" as const, threshold: "300ms", objective: 99 },
      { name: "goodput", sli: "goodput" as const, objective: 95 },
    ],
  };
  const s = productionFromRaw(raw, "test");
  assert.ok(s);
  return s;
}

function panelsOf(d: Record<string, unknown>): Panel[] {
  return d.panels as Panel[];
}

function variablesOf(d: Record<string, unknown>): Variable[] {
  return (d.templating as { list: Variable[] }).list;
}

function variableQuery(v: Variable): string {
  return typeof v.query === "string" ? v.query : v.query.query;
}

/** Every PromQL expression: panel targets, and the series selectors inside label_values(). */
function expressionsOf(d: Record<string, unknown>): string[] {
  const targets = panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const selectors = variablesOf(d)
    .filter((v) => v.type === "query")
    .map(
      (v) => /^label_values\((.+), *\w+\)$/.exec(variableQuery(v))?.[1] ?? `unparsed: ${variableQuery(v)}`,
    );
  return [...targets, ...selectors];
}

/** Label names in `{...}` matchers and in by/on/group_left(...) clauses. */
function labelNames(expr: string): string[] {
  const names: string[] = [];
  for (const block of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of (block[1] ?? "").split(",")) {
      const name = /^\s*([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/.exec(matcher)?.[1];
      assert.ok(name, `unparsable matcher "${matcher}" in ${expr}`);
      names.push(name);
    }
  }
  for (const clause of expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    names.push(...(clause[1] ?? "").split(",").map((n) => n.trim()));
  }
  return names;
}

/** What Grafana would send with service "chat" and every model and route selected. */
function concrete(expr: string): string {
  const out = expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$service", "chat")
    .replaceAll("$model", ".*")
    .replaceAll("$route", ".*");
  assert.ok(!out.includes("$"), `variable left in ${out}`);
  return out;
}

/** Runs `promtool check rules` over the expressions as recording rules. */
function promtoolCheck(exprs: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "streamslo-dashboard-"));
  try {
    const file = join(dir, "rules.yml");
    const rules = exprs.map((expr, i) => ({ record: `dashboard:check:${i}`, expr }));
    // JSON is YAML, and JSON.stringify quotes every expression correctly.
    writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard-check", rules }] }, null, 2));
    const run = spawnSync(PROMTOOL, ["check", "rules", file], { encoding: "utf8" });
    return {
      status: run.status,
      output: `${run.stdout ?? ""}${run.stderr ?? ""}${run.error?.message ?? ""}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Panels of this type querying a series whose name starts with `rule`, for this SLO. */
function sloPanels(d: Record<string, unknown>, slo: string, type: string, rule: string): Panel[] {
  return panelsOf(d).filter(
    (p) =>
      p.type === type &&
      (p.targets ?? []).some((t) => t.expr.startsWith(rule) && t.expr.includes(`{${SLO_LABEL}="${slo}"`)),
  );
}

function burnPanel(d: Record<string, unknown>, slo: string): Panel {
  const [panel] = sloPanels(d, slo, "timeseries", RULES.errorRatio(""));
  assert.ok(panel, `no burn-rate panel for ${slo}`);
  return panel;
}

function thresholdValues(p: Panel): number[] {
  return (p.fieldConfig?.defaults.thresholds.steps ?? []).flatMap((s) => (s.value === null ? [] : [s.value]));
}

const SLO_NAMES = ["availability", "ttft", "goodput"];
const BASE_LABELS = [SERVICE_LABEL, MODEL_LABEL, ROUTE_LABEL, SLO_LABEL, "le", "outcome", "criterion"];

describe("grafana dashboard: structure", () => {
  const d = grafanaDashboard(spec());
  const panels = panelsOf(d);

  it("has unique panel ids and gridPos that stay on the grid without overlapping", () => {
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    for (const p of panels) assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, p.title);
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        assert.ok(apart, `"${a.title}" overlaps "${b.title}"`);
      }
    }
  });

  it("has target refIds unique within each panel", () => {
    for (const p of panels) {
      const ids = (p.targets ?? []).map((t) => t.refId);
      assert.equal(new Set(ids).size, ids.length, p.title);
    }
  });

  it("has one budget, one burn-rate and one alert list panel per SLO", () => {
    for (const name of SLO_NAMES) {
      assert.equal(sloPanels(d, name, "stat", RULES.budgetRemaining).length, 1, name);
      assert.equal(sloPanels(d, name, "timeseries", RULES.errorRatio("")).length, 1, name);
      const alerts = panels.filter(
        (p) =>
          p.type === "alertlist" && p.options?.alertInstanceLabelFilter?.includes(`${SLO_LABEL}="${name}"`),
      );
      assert.equal(alerts.length, 1, name);
      assert.equal(alerts[0]?.options?.alertInstanceLabelFilter, `{slo="${name}",service="$service"}`);
      // Grafana keeps rules whose name contains alertName, case-insensitively.
      const alertName = (alerts[0]?.options?.alertName ?? "").toLowerCase();
      for (const rule of ["SLOErrorBudgetBurn", "SLOMetricsAbsent"]) {
        assert.ok(alertName && rule.toLowerCase().includes(alertName), `${rule} filtered out`);
      }
    }
  });

  it("plots one burn rate per recording-rule window", () => {
    const burn = burnPanel(d, "availability");
    const windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
    assert.deepEqual(
      burn.targets?.map((t) => t.legendFormat),
      windows,
    );
    assert.deepEqual(
      burn.targets?.map((t) => t.expr.split("{")[0]),
      windows.map(RULES.errorRatio),
    );
  });

  it("draws the page and ticket burn rates of a 30d period: 14.4, 6, 3, 1", () => {
    for (const name of SLO_NAMES) assert.deepEqual(thresholdValues(burnPanel(d, name)), [1, 3, 6, 14.4]);
  });

  it("draws them for a 28d period: 13.44, 5.6, 2.8, 0.9333", () => {
    const d28 = grafanaDashboard(spec("28d"));
    assert.deepEqual(thresholdValues(burnPanel(d28, "ttft")), [0.9333, 2.8, 5.6, 13.44]);
  });

  it("draws a latency objective on its latency panel", () => {
    const ttft = panels.find((p) => p.title === "TTFT");
    assert.ok(ttft);
    assert.deepEqual(thresholdValues(ttft), [0.3]);
  });

  it("is deterministic, with a uid from the service name", () => {
    assert.equal(JSON.stringify(grafanaDashboard(spec())), JSON.stringify(d));
    assert.equal(d.uid, "streamslo-chat");
    const odd = grafanaDashboard({ ...spec(), service: "chat.eu-west:prod.very-long-service-name" }).uid;
    const other = grafanaDashboard({ ...spec(), service: "chat-eu-west-prod-very-long-service-name" }).uid;
    assert.match(String(odd), /^[A-Za-z0-9_-]{1,40}$/);
    assert.notEqual(odd, other);
  });

  it("takes a title and a data source uid", () => {
    const titled = grafanaDashboard(spec(), { title: "Chat", datasourceUid: "prom-1" });
    assert.equal(titled.title, "Chat");
    const ds = variablesOf(titled).find((v) => v.name === "datasource");
    assert.deepEqual(ds?.current, { text: "prom-1", value: "prom-1" });
  });
});

describe("grafana dashboard: labels", () => {
  it("names template variable labels with the conventions' constants", () => {
    const vars = variablesOf(grafanaDashboard(spec()));
    assert.deepEqual(
      vars.map((v) => [v.name, v.type]),
      [
        ["datasource", "datasource"],
        ["service", "query"],
        ["model", "query"],
        ["route", "query"],
      ],
    );
    const byName = new Map(vars.map((v) => [v.name, variableQuery(v)]));
    assert.equal(byName.get("service"), `label_values(${RULES.objective}, ${SERVICE_LABEL})`);
    assert.equal(
      byName.get("model"),
      `label_values(streamslo_requests_total{service="$service"}, ${MODEL_LABEL})`,
    );
    assert.equal(
      byName.get("route"),
      `label_values(streamslo_requests_total{service="$service"}, ${ROUTE_LABEL})`,
    );
    assert.deepEqual(vars[1]?.current, { text: "chat", value: "chat" });
  });

  it("matches only on the conventions' labels, le, slo, outcome and criterion", () => {
    const d = grafanaDashboard(spec());
    const allowed = new Set(BASE_LABELS);
    const filters = panelsOf(d).flatMap((p) => p.options?.alertInstanceLabelFilter ?? []);
    for (const expr of [...expressionsOf(d), ...filters]) {
      for (const name of labelNames(expr)) assert.ok(allowed.has(name), `label "${name}" in ${expr}`);
    }
  });

  it("selects the proxy's active-stream gauges by service only, the one label they carry", () => {
    const exprs = expressionsOf(grafanaDashboard(spec())).filter((e) =>
      e.includes("streamslo_active_streams"),
    );
    assert.equal(exprs.length, 2);
    for (const e of exprs) assert.deepEqual(labelNames(e), [SERVICE_LABEL], e);
  });

  it("colours the budget stat panels by their thresholds", () => {
    const stats = panelsOf(grafanaDashboard(spec())).filter((p) => p.type === "stat");
    assert.equal(stats.length, SLO_NAMES.length);
    for (const p of stats) {
      assert.equal(p.fieldConfig?.defaults.color?.mode, "thresholds", p.title);
    }
  });

  it("uses vLLM's names and model_name for source vllm, and service only on slo:* series", () => {
    const d = grafanaDashboard(spec("30d", "vllm"));
    const exprs = expressionsOf(d);
    for (const m of [
      "time_to_first_token",
      "request_time_per_output_token",
      "inter_token_latency",
      "e2e_request_latency",
    ]) {
      assert.ok(
        exprs.some((e) => e.includes(`vllm:${m}_seconds_bucket{model_name=~"$model"}`)),
        m,
      );
    }
    assert.ok(exprs.some((e) => e.includes("vllm:num_requests_running")));
    assert.ok(
      exprs.some((e) =>
        e.includes('vllm:request_success_total{model_name=~"$model",finished_reason="abort"}'),
      ),
    );
    assert.ok(!exprs.some((e) => e.includes("streamslo_")));
    const allowed = new Set([...BASE_LABELS, "model_name", "finished_reason"]);
    for (const expr of exprs) {
      const names = labelNames(expr);
      for (const name of names) assert.ok(allowed.has(name), `label "${name}" in ${expr}`);
      if (expr.includes("vllm:")) assert.ok(!names.includes(SERVICE_LABEL), expr);
    }
    assert.deepEqual(
      variablesOf(d).map((v) => v.name),
      ["datasource", "service", "model"],
    );
  });

  it("leaves SLI panels out for source promql, whose SLIs are the user's own queries", () => {
    const d = grafanaDashboard({ ...spec(), source: "promql" });
    assert.ok(expressionsOf(d).every((e) => e.startsWith("slo:")));
    assert.equal(sloPanels(d, "goodput", "stat", RULES.budgetRemaining).length, 1);
  });
});

describe("grafana dashboard: PromQL", () => {
  it("promtool rejects a broken expression (the check below means something)", () => {
    const { status } = promtoolCheck(["sum(rate(streamslo_requests_total[5m])"]);
    assert.notEqual(status, 0);
  });

  for (const [label, s] of [
    ["streamslo 30d", spec()],
    ["streamslo 28d", spec("28d")],
    ["vllm", spec("30d", "vllm")],
  ] as const) {
    it(`every expression is valid PromQL per promtool (${label})`, () => {
      const exprs = expressionsOf(grafanaDashboard(s)).map(concrete);
      const { status, output } = promtoolCheck(exprs);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    });
  }
});
