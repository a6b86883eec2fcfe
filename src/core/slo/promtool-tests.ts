import { PROXY_METRICS, SERVICE_LABEL } from "./conventions.js";
import type { ProductionSlo, ProductionSpec } from "./production-spec.js";
import { burnAlerts, prometheusRules, sloLabels } from "./prometheus-rules.js";
import { labelSet, latencyBucket, leLabel, presenceSeries, VLLM_HISTOGRAMS } from "./sli-queries.js";

/** The label="value" matchers of a selector (not !=, =~ or !~). */
function equalityMatchers(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) {
    const before = selector[(m.index ?? 0) + (m[1]?.length ?? 0)];
    if (before === "=" && m[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** Requests per minute in the synthetic series: large enough for integer error counts at 99.95%. */
const PER_MINUTE = 10_000;

interface Series {
  series: string;
  values: string;
}

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: Series[];
  alert_rule_test: AlertTest[];
}

/** Concrete good and bad counter series that the SLO's selectors match. */
function goodBadSeries(
  spec: ProductionSpec,
  slo: ProductionSlo,
): { good: string; bad?: string; total?: string } | undefined {
  const svc = { [SERVICE_LABEL]: spec.service };
  if (spec.source === "streamslo") {
    const req = PROXY_METRICS.requests;
    switch (slo.sli) {
      case "availability":
        return {
          good: `${req}${labelSet({ ...svc, outcome: "ok" })}`,
          bad: `${req}${labelSet({ ...svc, outcome: "upstream_error" })}`,
        };
      case "drops":
        return {
          good: `${req}${labelSet({ ...svc, outcome: "ok" })}`,
          bad: `${req}${labelSet({ ...svc, outcome: "upstream_drop" })}`,
        };
      case "goodput":
        return {
          good: `${PROXY_METRICS.sloGood}${labelSet({ ...svc, criterion: "all" })}`,
          total: `${PROXY_METRICS.sloTotal}${labelSet({ ...svc, criterion: "all" })}`,
        };
      case "latency": {
        const name = PROXY_METRICS[slo.metric ?? "ttft"];
        const le = leLabel(latencyBucket(spec, slo), "streamslo");
        return {
          good: `${name}_bucket${labelSet({ ...svc, le })}`,
          total: `${name}_count${labelSet(svc)}`,
        };
      }
    }
  }
  if (spec.source === "vllm") {
    const model = { ...spec.selector, model_name: "m" };
    switch (slo.sli) {
      case "availability":
        return {
          good: `http_requests_total${labelSet({ ...spec.selector, handler: "/v1/chat/completions", status: "2xx" })}`,
          bad: `http_requests_total${labelSet({ ...spec.selector, handler: "/v1/chat/completions", status: "5xx" })}`,
        };
      case "drops":
        return {
          good: `vllm:request_success_total${labelSet({ ...model, finished_reason: "stop" })}`,
          bad: `vllm:request_success_total${labelSet({ ...model, finished_reason: "abort" })}`,
        };
      case "latency": {
        const name = VLLM_HISTOGRAMS[slo.metric ?? "ttft"];
        const le = leLabel(latencyBucket(spec, slo), "vllm");
        return {
          good: `${name}_bucket${labelSet({ ...model, le })}`,
          total: `${name}_count${labelSet(model)}`,
        };
      }
    }
  }
  return undefined; // own PromQL: streamslo cannot know which series it reads
}

/** Series where `bad` of every PER_MINUTE events per minute are bad, for `minutes`. */
function traffic(spec: ProductionSpec, slo: ProductionSlo, badPerMinute: number, minutes: number): Series[] {
  const s = goodBadSeries(spec, slo);
  if (!s) return [];
  const counter = (per: number) => `0+${per}x${minutes}`;
  if (s.bad !== undefined) {
    return [
      { series: s.good, values: counter(PER_MINUTE - badPerMinute) },
      { series: s.bad, values: counter(badPerMinute) },
    ];
  }
  return [
    { series: s.good, values: counter(PER_MINUTE - badPerMinute) },
    { series: s.total as string, values: counter(PER_MINUTE) },
  ];
}

function burnExpectation(spec: ProductionSpec, slo: ProductionSlo, severities: ("page" | "ticket")[]) {
  const rules = prometheusRules({ ...spec, slos: [slo] }).groups.flatMap((g) => g.rules);
  return severities.map((severity) => {
    const rule = rules.find((r) => r.alert === "SLOErrorBudgetBurn" && r.labels?.severity === severity);
    return { exp_labels: { ...sloLabels(spec, slo), severity }, exp_annotations: rule?.annotations };
  });
}

/**
 * promtool unit tests for the generated rules: per SLO a clean stretch (no alert), a fast burn
 * (20x the budget: page and ticket), a slow burn (2x: ticket only), and no data at all (absent).
 * SLIs of own PromQL are left out: their series are the user's to know.
 */
export function promtoolTests(
  spec: ProductionSpec,
  rulesFile: string,
): { rule_files: string[]; evaluation_interval: string; tests: PromtoolTest[] } {
  const tests: PromtoolTest[] = [];
  const svc = { [SERVICE_LABEL]: spec.service };
  const testable = spec.slos.filter((slo) => goodBadSeries(spec, slo) !== undefined);
  for (const slo of testable) {
    const budget = 1 - slo.objective;
    const burn = (name: string, severities: ("page" | "ticket")[]) => ({
      eval_time: name,
      alertname: "SLOErrorBudgetBurn",
      exp_alerts: burnExpectation(spec, slo, severities),
    });
    tests.push({
      name: `${slo.name}: a clean stretch fires nothing`,
      interval: "1m",
      input_series: traffic(spec, slo, 0, 180),
      alert_rule_test: [burn("1h", []), burn("3h", [])],
    });
    const [page] = burnAlerts(spec);
    const fastFactor = Math.max(...(page?.pairs.map((p) => p.factor) ?? [14.4]));
    const fastBad = Math.ceil(PER_MINUTE * Math.min(1, 20 * budget));
    if (fastBad / PER_MINUTE > fastFactor * budget) {
      tests.push({
        name: `${slo.name}: a fast burn pages within the hour`,
        interval: "1m",
        input_series: traffic(spec, slo, fastBad, 120),
        alert_rule_test: [burn("1h", ["page", "ticket"])],
      });
    }
    const series = goodBadSeries(spec, slo);
    if (series?.total !== undefined) {
      // An outage since the proxy started: the good counter was never created, only the total grows.
      tests.push({
        name: `${slo.name}: no good event at all (an outage from the start) pages`,
        interval: "1m",
        input_series: [{ series: series.total, values: `0+${PER_MINUTE}x120` }],
        alert_rule_test: [burn("1h", ["page", "ticket"])],
      });
    }
    // The proxy's own outcome counters, at a fast burn the page must see through other outcomes.
    const proxyBurn =
      spec.source === "streamslo" && slo.good === undefined && fastBad / PER_MINUTE > fastFactor * budget;
    const requests = (outcome: string, perMinute: number) => ({
      series: `${PROXY_METRICS.requests}${labelSet({ ...svc, outcome })}`,
      values: `0+${perMinute}x120`,
    });
    if (proxyBurn && slo.sli === "availability") {
      // A client's wrong requests (4xx but 429) are no events: three times as many as the rest, they
      // must not dilute a fast burn (20x) below the page (counted in the total: 5x, under 6x and 14.4x).
      tests.push({
        name: `${slo.name}: a client's wrong requests (4xx) neither burn budget nor hide a burn`,
        interval: "1m",
        input_series: [...traffic(spec, slo, fastBad, 120), requests("client_error", 3 * PER_MINUTE)],
        alert_rule_test: [burn("1h", ["page", "ticket"])],
      });
      // Requests the proxy shed itself (429 at --max-streams, 503 draining) are what users saw.
      tests.push({
        name: `${slo.name}: requests the proxy rejected burn the budget`,
        interval: "1m",
        input_series: [requests("ok", PER_MINUTE - fastBad), requests("rejected", fastBad)],
        alert_rule_test: [burn("1h", ["page", "ticket"])],
      });
    }
    if (proxyBurn && slo.sli === "drops") {
      // Requests that failed before a stream started are availability's events, not drops': three
      // times as many as the streams, they must not dilute a fast burn of drops below the page.
      tests.push({
        name: `${slo.name}: requests that failed before streaming neither burn nor hide a burn of drops`,
        interval: "1m",
        input_series: [...traffic(spec, slo, fastBad, 120), requests("upstream_error", 3 * PER_MINUTE)],
        // Availability sees those errors, and pages for them: its alerts are expected beside drops'.
        alert_rule_test: [
          {
            eval_time: "1h",
            alertname: "SLOErrorBudgetBurn",
            exp_alerts: [
              slo,
              ...spec.slos.filter((a) => a.sli === "availability" && a.good === undefined),
            ].flatMap((a) => burnExpectation(spec, a, ["page", "ticket"])),
          },
        ],
      });
    }
    const slowBad = Math.round(PER_MINUTE * 2 * budget);
    const slowBurn = slowBad / (PER_MINUTE * budget);
    if (slowBurn > 1 && slowBurn < 3) {
      tests.push({
        name: `${slo.name}: a slow burn opens a ticket, no page`,
        interval: "1m",
        input_series: traffic(spec, slo, slowBad, 480),
        alert_rule_test: [burn("7h", ["ticket"])],
      });
    }
  }
  const rules = prometheusRules(spec).groups.flatMap((g) => g.rules);
  if (spec.source === "streamslo") {
    // The proxy is scraped but has had no request since it started: quiet, not missing.
    tests.push({
      name: "an idle proxy raises no SLOMetricsAbsent",
      interval: "1m",
      input_series: [{ series: `${PROXY_METRICS.activeStreams}${labelSet(svc)}`, values: "0x30" }],
      alert_rule_test: [
        {
          eval_time: "15m",
          alertname: "SLOMetricsAbsent",
          exp_alerts: spec.slos
            .filter((slo) => slo.good !== undefined)
            .map((slo) => {
              const rule = rules.find((r) => r.alert === "SLOMetricsAbsent" && r.labels?.slo === slo.name);
              return {
                exp_labels: { ...equalityMatchers(presenceSeries(spec, slo)), ...(rule?.labels ?? {}) },
                exp_annotations: rule?.annotations,
              };
            }),
        },
      ],
    });
  }
  tests.push({
    name: "no SLI data raises SLOMetricsAbsent for every SLO",
    interval: "1m",
    input_series: [],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "SLOMetricsAbsent",
        exp_alerts: spec.slos.map((slo) => {
          const rule = rules.find((r) => r.alert === "SLOMetricsAbsent" && r.labels?.slo === slo.name);
          // absent() keeps the selector's equality matchers as labels.
          return {
            exp_labels: { ...equalityMatchers(presenceSeries(spec, slo)), ...(rule?.labels ?? {}) },
            exp_annotations: rule?.annotations,
          };
        }),
      },
    ],
  });
  return { rule_files: [rulesFile], evaluation_interval: "1m", tests };
}
