import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, tempDir } from "../helpers/cli.js";

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
const PROMTOOL = process.env.PROMTOOL_PATH ?? "/usr/bin/promtool";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Three hours of proxy counters, backfilled into a real Prometheus with promtool: 10 requests/s,
 * clean for two hours, then 10% errors for the last hour (a fast burn of a 99.9% SLO: 100x).
 */
function backfill(dir: string, nowS: number): void {
  const start = nowS - 3 * 3600;
  const ok: string[] = [];
  const err: string[] = [];
  let okCount = 0;
  let errCount = 0;
  for (let t = start; t < nowS; t += 15) {
    const failing = t >= nowS - 3600;
    okCount += failing ? 135 : 150;
    errCount += failing ? 15 : 0;
    ok.push(`streamslo_requests_total{service="chat",outcome="ok"} ${okCount} ${t}`);
    err.push(`streamslo_requests_total{service="chat",outcome="upstream_error"} ${errCount} ${t}`);
  }
  writeFileSync(
    join(dir, "data.om"),
    ["# TYPE streamslo_requests counter", ...ok, ...err, "# EOF", ""].join("\n"),
  );
  const r = spawnSync(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", "data.om", "data"], {
    cwd: dir,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
}

describe("streamslo budget --prometheus (a real Prometheus with backfilled data)", () => {
  let prom: ChildProcess | undefined;
  let url = "";
  const dir = tempDir();
  const budgetOver = (slo: string, range: string, step: string, ...more: string[]) =>
    runCli(["budget", "--prometheus", url, "--slo", slo, "--range", range, "--step", step, ...more]);

  before(async () => {
    backfill(dir, Math.floor(Date.now() / 1000));
    writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prom = spawn(
      PROMETHEUS,
      ["--config.file=prometheus.yml", "--storage.tsdb.path=data", `--web.listen-address=127.0.0.1:${port}`],
      {
        cwd: dir,
        stdio: "ignore",
      },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const res = await fetch(`${url}/-/ready`);
        if (res.ok) break;
      } catch {
        // not up yet
      }
      assert.ok(Date.now() < deadline, "Prometheus did not get ready within 20 s");
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    prom?.kill("SIGKILL");
  });

  it("finds the fast burn: a page within the last hour, the budget's burn rate near 100x over that hour", async () => {
    const slo = join(dir, "slo.yaml");
    writeFileSync(
      slo,
      "service: chat\nslos:\n  - name: availability\n    sli: availability\n    objective: 99.9\n",
    );
    const r = await budgetOver(slo, "3h", "1m", "--json");
    assert.equal(r.code, 0, r.stderr);
    const [a] = JSON.parse(r.stdout);
    // 3 h at 10/s = 108,000 requests; 3,600 s x 1/s = 3,600 of them bad (increase() extrapolates a little).
    assert.ok(Math.abs(a.totals.events - 108_000) / 108_000 < 0.03, `events ${a.totals.events}`);
    assert.ok(Math.abs(a.totals.bad - 3_600) / 3_600 < 0.05, `bad ${a.totals.bad}`);
    const page = a.firing.page[0];
    assert.ok(page, "a page fired");
    // The 1h/5m pair needs > 1.44% errors over the hour: 10% errors pass that about 9 minutes in.
    const startMin = page.startMs / 60_000;
    assert.ok(startMin > 120 && startMin < 140, `page started at +${startMin} min`);
    assert.equal(page.open, true);
    // Over the period (all the data there is: 3 h), 3.3% bad of a 0.1% budget: consumed and remaining add up.
    assert.ok(Math.abs(a.totals.consumed + a.totals.remaining - 1) < 1e-9);
    assert.ok(a.totals.consumed > 30 && a.totals.consumed < 36, `consumed ${a.totals.consumed}`);
    const text = await runCli(["budget", "--prometheus", url, "--slo", slo, "--range", "3h"]);
    assert.match(text.stdout, /^availability\s+page\s+1h\/5m\s+> 14\.4x\s+\+2h\d+m\.\.end$/m);
    assert.match(text.stdout, /times are from the range's start, /);
  });

  it("takes a range in seconds, and refuses one Prometheus would return too many points of", async () => {
    const slo = join(dir, "slo.yaml");
    const short = await budgetOver(slo, "90s", "15s");
    assert.equal(short.code, 0, short.stderr);
    assert.match(short.stdout, /^availability\s+99\.9%/m);
    const dense = await budgetOver(slo, "3d", "10s");
    assert.equal(dense.code, 2, dense.stderr);
    assert.match(
      dense.stderr,
      /25921 points, more than the 11000 Prometheus returns per query; use --step 24s or more/,
    );
  });

  it("an SLI without series says so instead of a spotless budget", async () => {
    const slo = join(dir, "none.yaml");
    writeFileSync(
      slo,
      "service: nobody\nslos:\n  - name: availability\n    sli: availability\n    objective: 99.9\n",
    );
    const r = await runCli(["budget", "--prometheus", url, "--slo", slo, "--range", "3h"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no events over the 30d period: streamslo_requests_total\{service="nobody"/);
    const json = await runCli(["budget", "--prometheus", url, "--slo", slo, "--range", "3h", "--json"]);
    assert.match(JSON.parse(json.stdout)[0].note, /no events over the 30d period/);
    assert.doesNotMatch(r.stdout, /100%/);
  });

  it("an unreachable Prometheus exits 3 with one line", async () => {
    const slo = join(dir, "slo.yaml");
    // --range in days, as the README's example gives it: parsed (exit 2 otherwise), then unreachable.
    const r = await runCli(["budget", "--prometheus", "http://127.0.0.1:9", "--slo", slo, "--range", "3d"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot reach Prometheus at http:\/\/127\.0\.0\.1:9/);
  });
});
