import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import {
  concurrencyEffect,
  hypotheses,
  sloStatement,
  sreBullets,
} from "../../src/core/report/endpoint-notes.js";
import { fmtMs } from "../../src/core/report/numbers.js";
import type { ReportLevel } from "../../src/core/report/report-input.js";
import { loadReportInput } from "../../src/output/report-reader.js";
import { runCli, tempDir } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ARTIFACTS = join(ROOT, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("streamslo report", () => {
  let dir: string;
  // biome-ignore lint/suspicious/noExplicitAny: summary.json is read as a user's script would, untyped.
  let summary: any;

  before(async () => {
    const out = tempDir();
    const bench = await runCli([
      "bench",
      "--sim-preset",
      "fast",
      "-c",
      "1,4,8",
      "-n",
      "16",
      "--slo",
      join(ROOT, "examples/slo.yaml"),
      "--out",
      out,
      "-q",
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    dir = join(out, readdirSync(out)[0] as string);
    summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const report = await runCli(["report", dir]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /wrote .*report\.md and .*report\.html/);
  });

  it("writes the SLO notes from this run's numbers, agreeing with summary.json", () => {
    const md = readFileSync(join(dir, "report.md"), "utf8");
    for (const title of [
      "SLO statement",
      "TTFT vs HTTP latency",
      "How load changes wall time",
      "What to watch",
      "Hypotheses for future work",
      "For the SRE",
      "Per-level results",
      "SLO objectives",
      "Plain-HTTP baseline",
    ]) {
      assert.match(md, new RegExp(`^## ${title}`, "m"), title);
    }
    assert.match(
      md,
      /\*\*p95 HTTP latency for a \d+-token generation on this endpoint should be <= [\d.]+ m?s at concurrency <= \d\.\*\*/,
    );
    // The per-level table carries the summary's own figures.
    for (const l of summary.levels) {
      assert.ok(md.includes(fmtMs(l.ttft_ms.p95)), `TTFT p95 of ${l.scenario} (${fmtMs(l.ttft_ms.p95)})`);
      assert.ok(md.includes(Number(l.p95_wall_s.toFixed(3)).toString()), `p95 wall of ${l.scenario}`);
    }
    const base = summary.baseline;
    assert.ok(md.includes(fmtMs(base.tiny_wall_ms.p50)), "the one-token baseline");
    // "What to watch" names the simulator's own vLLM metric names when they were scraped, and 4-6 items.
    const watch = md.split("## What to watch")[1]?.split("\n## ")[0] ?? "";
    const items = watch.split("\n").filter((l) => l.startsWith("- "));
    assert.ok(items.length >= 4 && items.length <= 6, `${items.length} items`);
    for (const f of ["latency-vs-load", "ttft-cdf", "goodput", "in-flight"]) {
      assert.ok(md.includes(`(charts/${f}.svg)`), f);
      const svg = readFileSync(join(dir, "charts", `${f}.svg`), "utf8");
      assert.match(svg, /^<svg/);
      assert.match(svg, /<path/);
    }
  });

  it("sets the client's TTFT against the server's over the same requests, warm-up and cool-down included", () => {
    const records = readFileSync(join(dir, "requests.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const md = readFileSync(join(dir, "report.md"), "utf8");
    for (const l of summary.levels) {
      const seen = records.filter((r) => r.scenario === l.scenario && r.firstContentMs !== undefined);
      const phases = new Set(seen.map((r) => r.phase));
      assert.ok(phases.has("warmup") && phases.has("measure"), `${l.scenario}: ${[...phases]}`);
      const all = records.filter((r) => r.scenario === l.scenario);
      for (const cut of all.filter((r) => r.error?.code === "aborted")) {
        assert.equal(cut.phase, "cooldown");
        assert.match(cut.error.message, /level's end: a cool-down request/, "not 'aborted by the user'");
      }
      const mean = seen.reduce((a, r) => a + r.firstContentMs - r.startMs, 0) / seen.length;
      assert.equal(l.server.client_ttft_count, seen.length);
      assert.ok(Math.abs(l.server.client_ttft_mean_ms - mean) < 1e-6, `${l.scenario} client mean`);
      // A cool-down request cut at the level's end before its first token reached the client may still
      // have had it counted by the server; every other request the two count alike.
      const cut = all.length - seen.length;
      assert.ok(
        l.server.ttft_count >= seen.length && l.server.ttft_count <= seen.length + cut,
        `${l.scenario}: the simulator counted ${l.server.ttft_count}, the client ${seen.length} (+${cut} cut)`,
      );
      const gap = fmtMs(l.server.client_ttft_mean_ms - l.server.ttft_mean_ms);
      assert.ok(md.includes(`${gap} (`), `${l.scenario}: overhead ${gap} in report.md`);
    }
  });

  it("states an SLO only up to the first level that fails, is invalid or slows down", async () => {
    const input = await loadReportInput(dir);
    const [c1, c4, c8] = input.levels;
    assert.ok(c1 && c4 && c8);
    // A failing middle level ends the SLO there, even when a heavier level looks clean and fast.
    const failing = structuredClone(input);
    const [f1, f4, f8] = failing.levels as [ReportLevel, ReportLevel, ReportLevel];
    f4.summary.error = 2;
    f8.summary.wall_ms.p95 = f1.summary.wall_ms.p95;
    const statement = sloStatement(failing).paragraphs.join("\n");
    assert.match(statement, /should be <= [\d.]+ m?s at concurrency <= 1\.\*\*/);
    assert.match(statement, /The next level, concurrency 4, did not hold: 2 of its 16 requests failed/);
    assert.match(
      sreBullets(failing).bullets?.[1] ?? "",
      /^Scale out beyond 1 concurrent stream per replica: .*concurrency 4, 2 of its 16 requests failed/,
    );
    // A level where every request failed is not skipped either (it has no wall time at all).
    const dead = structuredClone(input);
    const d4 = dead.levels[1] as ReportLevel;
    Object.assign(d4.summary, { ok: 0, error: d4.summary.n });
    (d4.summary.wall_ms as { p95: number | null }).p95 = null;
    const deadText = sloStatement(dead).paragraphs.join("\n");
    assert.match(deadText, /at concurrency <= 1\.\*\*/);
    assert.match(deadText, /concurrency 4, did not hold: 16 of its 16 requests failed\./);
    const deadFirst = structuredClone(dead);
    deadFirst.levels.reverse(); // order in the file does not matter
    Object.assign((deadFirst.levels[2] as ReportLevel).summary, { ok: 0, error: 16 });
    assert.match(sloStatement(deadFirst).paragraphs[0] ?? "", /^\*\*No SLO can be stated/);
    // An invalid or failing lightest level: no SLO, and no alert figures.
    for (const spoil of [
      (l: ReportLevel) => (l.valid = false),
      (l: ReportLevel) => (l.summary.incomplete = 3),
    ]) {
      const spoiled = structuredClone(input);
      spoil(spoiled.levels[0] as ReportLevel);
      const text = sloStatement(spoiled).paragraphs.join("\n");
      assert.match(
        text,
        /^\*\*No SLO can be stated from this run: even the lightest load tried, concurrency 1, did not hold/,
      );
      assert.doesNotMatch(text, /should be <=/);
      assert.match(sreBullets(spoiled).paragraphs.join(""), /No level held/);
    }
  });

  /** A copy of the run whose summary.json `edit` changed, and its report.md. */
  async function editedReport(edit: (doc: typeof summary) => void): Promise<string> {
    const copy = join(tempDir(), "run");
    cpSync(dir, copy, { recursive: true });
    const doc = structuredClone(summary);
    edit(doc);
    writeFileSync(join(copy, "summary.json"), JSON.stringify(doc));
    const report = await runCli(["report", copy]);
    assert.equal(report.code, 0, report.stderr);
    return readFileSync(join(copy, "report.md"), "utf8");
  }

  function section(md: string, title: string): string {
    return md.split(`## ${title}`)[1]?.split("\n## ")[0] ?? "";
  }

  it("says a run was stopped early, which level it cut and which never ran, and states no SLO on a cut level", async () => {
    // Ctrl-C during c=4, 5 of its 16 requests measured: c=8 never ran.
    const md = await editedReport((doc) => {
      Object.assign(doc, { interrupted: true, stop_reason: { kind: "interrupted" } });
      doc.levels = doc.levels.slice(0, 2);
      doc.levels[1].n = 5;
    });
    const top = section(md, "Run stopped early");
    assert.match(top, /This run was stopped early: it was interrupted \(Ctrl-C or SIGTERM\)/);
    assert.match(
      top,
      /Concurrency 4 was cut short after 5 of its 16 requests, so it is not a complete measurement/,
    );
    assert.match(top, /Concurrency 8 never ran/);
    assert.ok(md.indexOf("## Run stopped early") < md.indexOf("## SLO statement"), "at the top");
    const slo = section(md, "SLO statement");
    assert.match(slo, /should be <= [\d.]+ m?s at concurrency <= 1\.\*\*/);
    assert.match(
      slo,
      /The next level, concurrency 4, is left out: it was cut short after 5 of its 16 requests/,
    );
    assert.match(slo, /The run was stopped early: it was interrupted .*; concurrency 8 never ran/);
    assert.match(section(md, "How load changes wall time"), /concurrency 4 \(cut short: 5 requests\)/);
    assert.match(
      section(md, "For the SRE"),
      /Plan for up to 1 concurrent stream per replica: the next load, concurrency 4, is left out/,
    );

    // Stopped during the first level: no SLO, and the levels that never ran named.
    const input = await loadReportInput(dir);
    const first = structuredClone(input);
    first.levels = first.levels.slice(0, 1);
    (first.levels[0] as ReportLevel).summary.n = 9;
    first.stop = { kind: "interrupted" };
    assert.match(
      sloStatement(first).paragraphs[0] ?? "",
      /^\*\*No SLO can be stated from this run: its lightest load, concurrency 1, was not measured in full/,
    );
    assert.match(
      concurrencyEffect(first).paragraphs[0] ?? "",
      /^Only one load level ran: the run was stopped early, before concurrency 4 and concurrency 8 could run/,
    );
    // A stop that came after the level had all its requests leaves it whole.
    (first.levels[0] as ReportLevel).summary.n = 16;
    assert.match(sloStatement(first).paragraphs[0] ?? "", /at concurrency <= 1\.\*\*/);
  });

  it("a run stopped by --max-error-rate: the stopped level did not hold, and the notes say why", async () => {
    const out = tempDir();
    const args = ["bench", "--sim-preset", "fast", "-c", "1,4", "-n", "40", "--baseline", "0"];
    const bench = await runCli([
      ...args,
      "--fault-5xx",
      "0.5",
      "--max-error-rate",
      "0.1",
      "--out",
      out,
      "-q",
    ]);
    assert.equal(bench.code, 99, bench.stderr);
    const run = join(out, readdirSync(out)[0] as string);
    const report = await runCli(["report", run]);
    assert.equal(report.code, 0, report.stderr);
    const md = readFileSync(join(run, "report.md"), "utf8");
    assert.match(
      section(md, "Run stopped early"),
      /stopped early: [\d.]+% of the requests at concurrency 1 failed, over --max-error-rate\.\*\* Concurrency 1 was stopped after \d+ of its 40 requests.* Concurrency 4 never ran/,
    );
    const slo = section(md, "SLO statement");
    assert.match(slo, /even the lightest load tried, concurrency 1, did not hold/);
    assert.match(
      slo,
      /At concurrency 1, it was stopped after \d+ of its 40 requests: [\d.]+% of the requests failed, over --max-error-rate/,
    );
  });

  it("leads with a warning when a level's failed share passes 5%, naming the level and its dominant error", async () => {
    const md = await editedReport((doc) => {
      const l = doc.levels[1];
      Object.assign(l, { ok: l.n - 3, error: 3, errors_by_code: { http_503: 2, stream_error: 1 } });
    });
    const warning = section(md, "Warning: failed requests");
    assert.match(warning, /More than 5% of a level's measured requests failed/);
    assert.match(warning, /- c=4: 19% of measured requests failed \(3 of 16, mostly http_503 x2\)/);
    assert.ok(md.indexOf("## Warning: failed requests") < md.indexOf("## SLO statement"), "at the top");
    // 5% or less is no warning.
    const quiet = await editedReport((doc) => {
      const l = doc.levels[1];
      Object.assign(l, { ok: l.n, error: 0, errors_by_code: {} });
    });
    assert.doesNotMatch(quiet, /Warning: failed requests/);
  });

  it("states an SLO that agrees with every number beside it: rounding within the stated margin, the next level and the capacity search", async () => {
    const md = await editedReport((doc) => {
      for (const [i, p95] of [100, 120, 130].entries()) {
        const l = doc.levels[i];
        Object.assign(l, { ok: l.n, error: 0, incomplete: 0, errors_by_code: {} });
        l.wall_ms.p95 = p95;
        l.validity = { ...l.validity, valid: true, reasons: [] };
      }
      doc.capacity = { mode: "concurrency", capacity: 8, failed_at: null, ending: "max", trials: [] };
    });
    const slo = section(md, "SLO statement");
    // 120 ms + 20% = 144 ms, rounded up to two significant figures: 150 ms (not 200, +39%).
    assert.match(slo, /should be <= 150 ms at concurrency <= 4\.\*\*/);
    assert.match(
      slo,
      /150 ms is that plus 20% headroom \(144 ms\), rounded up to two significant figures \(which adds under 10%\)/,
    );
    assert.match(
      slo,
      /The next level, concurrency 8, did not hold: .*That is still under the stated 150 ms, but latency had begun to climb/,
    );
    assert.match(slo, /held up to concurrency 8, more than this statement's bound.*Both hold/);
    // 167 ms + 20% = 200.4 ms: 210 ms, not 250 ms.
    const other = await editedReport((doc) => {
      doc.levels[0].wall_ms.p95 = 167;
      doc.levels[1].wall_ms.p95 = 229;
    });
    assert.match(section(other, "SLO statement"), /should be <= 210 ms at concurrency <= 1\.\*\*/);
  });

  it("says what the client noted about its own measurement: a long stall, a busy machine", async () => {
    const stall =
      "the client's event loop stalled once for 138 ms (p99 18.5 ms): requests in flight then were timed up to that much late";
    const md = await editedReport((doc) => {
      doc.levels[1].validity = { ...doc.levels[1].validity, valid: true, reasons: [], warnings: [stall] };
    });
    assert.match(
      section(md, "How the measurement went"),
      /- Concurrency 4: the client's event loop stalled once for 138 ms/,
    );
  });

  it("gives an invalid level's own validity reasons", async () => {
    const lag = "client event loop lagged 31.0 ms at p99 (limit 20 ms): timings may be late by as much";
    const md = await editedReport((doc) => {
      doc.levels[1].validity = { ...doc.levels[1].validity, valid: false, reasons: [lag] };
    });
    const slo = section(md, "SLO statement");
    assert.ok(
      slo.includes(`The next level, concurrency 4, did not hold: its result is invalid: ${lag}`),
      slo,
    );
    assert.doesNotMatch(slo, /the load asked of it was not held/);
  });

  it("hypotheses claim only what the numbers show", async () => {
    const input = await loadReportInput(dir);
    const with_ = (ttft: [number, number], tpot: [number, number], failed: [number, number]) => {
      const r = structuredClone(input);
      r.levels = r.levels.slice(0, 2);
      const [a, b] = r.levels.map((l) => l.summary);
      assert.ok(a && b);
      [a.ttft_ms.p95, b.ttft_ms.p95] = ttft;
      [a.tpot_ms.p50, b.tpot_ms.p50] = tpot;
      [a.error, b.error] = failed;
      b.errors_by_code = failed[1] > 0 ? { http_500: failed[1] } : {};
      return (hypotheses(r).bullets ?? []).join("\n");
    };
    // TPOT barely moved: not decode batching, however TTFT grew.
    const ttftOnly = with_([10, 18], [1, 1.1], [0, 0]);
    assert.doesNotMatch(ttftOnly, /Decode batching/);
    assert.match(
      ttftOnly,
      /Admission queueing dominates at high load: p95 TTFT grew 1.8x .* p50 TPOT grew only 1.1x/,
    );
    assert.match(
      with_([10, 11], [1, 1.1], [0, 0]),
      /Load has not yet slowed the endpoint: .*1.1x .*1.1x, both under 1.25x/,
    );
    assert.match(with_([10, 25], [1, 2], [0, 0]), /Decode batching is a main cost of load: p50 TPOT grew 2x/);
    // Failures the lightest load already had are not load's doing.
    const always = with_([10, 11], [1, 1.1], [6, 7]);
    assert.doesNotMatch(always, /Failures appear under load/);
    assert.match(
      always,
      /Failures occur at light load too, not only under load: 6 of 16 at concurrency 1, 7 of 16 at concurrency 4 failed/,
    );
    assert.match(
      with_([10, 11], [1, 1.1], [0, 7]),
      /Failures appear under load: 7 of 16 requests failed at concurrency 4 \(http_500 x7\), against 0 of 16 at concurrency 1/,
    );
  });

  it("measures the level past the SLO against the lightest level, in the statement and the SRE bullets alike", async () => {
    const r = structuredClone(await loadReportInput(dir));
    const [c1, c4, c8] = r.levels.map((l) => l.summary);
    assert.ok(c1 && c4 && c8);
    for (const s of [c1, c4, c8]) Object.assign(s, { error: 0, incomplete: 0 });
    for (const l of r.levels) l.valid = true;
    [c1.wall_ms.p95, c4.wall_ms.p95, c8.wall_ms.p95] = [100, 120, 161];
    const over = /p95 wall 161 ms, \+61% over the lightest level's 100 ms at concurrency 1/;
    assert.match(sloStatement(r).paragraphs.join("\n"), over);
    const scale = sreBullets(r).bullets?.[1] ?? "";
    assert.match(scale, over);
    assert.doesNotMatch(scale, /\+34%/);
  });

  it("renders report.html in headless Chromium, offline, with every chart drawn and no console errors", async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      await page.goto(pathToFileURL(join(dir, "report.html")).href, { waitUntil: "load" });
      const figures = await page.$$eval("figure", (fs) =>
        fs.map((f) => ({
          id: f.id,
          paths: f.querySelectorAll("svg path").length,
          width: f.querySelector("svg")?.getBoundingClientRect().width ?? 0,
        })),
      );
      assert.equal(figures.length, 7);
      for (const f of figures) {
        assert.ok(f.paths > 0, `${f.id} has no drawn paths`);
        assert.ok(f.width > 100, `${f.id} is ${f.width}px wide`);
      }
      // At a laptop's 1,280 px no table scrolls sideways.
      const tables = await page.$$eval("table", (ts) =>
        ts.map((t) => ({
          title: t.previousElementSibling?.textContent,
          over: t.scrollWidth - t.clientWidth,
        })),
      );
      assert.ok(tables.length >= 3, `${tables.length} tables`);
      for (const t of tables) assert.ok(t.over <= 0, `${t.title} scrolls sideways by ${t.over}px`);
      const heading = await page.textContent("h1");
      assert.match(heading ?? "", /Endpoint SLO notes: streamslo-sim/);
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, [], "the page fetched nothing from the network");
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
      assert.ok(existsSync(join(ARTIFACTS, "report.png")));
    } finally {
      await browser?.close();
    }
  });

  it("a run without streaming: notes on E2E, no TTFT figures or charts, no n/a in the prose", async () => {
    const out = tempDir();
    const bench = await runCli([
      ...["bench", "--sim-preset", "fast", "-c", "1,2", "-n", "6", "--no-stream", "--out", out, "-q"],
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const run = join(out, readdirSync(out)[0] as string);
    const report = await runCli(["report", run]);
    assert.equal(report.code, 0, report.stderr);
    const md = readFileSync(join(run, "report.md"), "utf8");
    const notes = md.split("## Per-level results")[0] ?? "";
    assert.doesNotMatch(notes, /n\/a/, notes);
    assert.match(notes, /This run did not stream, so it has no TTFT/);
    assert.match(notes, /Alert on p95 E2E above/);
    assert.match(notes, /Client E2E p95/);
    assert.ok(!md.includes("charts/ttft-cdf.svg"), "no TTFT chart without TTFTs");
    const summaryOf = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
    for (const l of summaryOf.levels) {
      assert.equal(l.ttft_ms.count, 0, l.scenario);
      assert.equal(l.tpot_ms.count, 0, l.scenario);
    }
  });

  it("orders chart legends by load, not by name", async () => {
    const out = tempDir();
    const args = ["bench", "--sim-preset", "fast", "--rate", "16,2", "-n", "6", "--baseline", "0"];
    const bench = await runCli([...args, "--out", out, "-q"]);
    assert.equal(bench.code, 0, bench.stderr);
    const run = join(out, readdirSync(out)[0] as string);
    const report = await runCli(["report", run]);
    assert.equal(report.code, 0, report.stderr);
    const html = readFileSync(join(run, "report.html"), "utf8");
    const figure = html.slice(html.indexOf('<figure id="chart-ttft-cdf"'));
    const legend = [...figure.matchAll(/role-legend-label[^>]*><text[^>]*>([^<]+)<\/text>/g)].map(
      (m) => m[1],
    );
    assert.deepEqual(legend.slice(0, 2), ["rate=2", "rate=16"]);
  });

  it("a folder that is not a run exits 2 with one line", async () => {
    const r = await runCli(["report", tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no summary\.json here; pass a folder written by streamslo bench/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
});
