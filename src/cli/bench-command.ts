import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "undici";
import { Clock } from "../client/clock.js";
import type { LevelSummary } from "../core/level-aggregate.js";
import { type BenchResult, runBench } from "../load/bench-run.js";
import { createRunDir, csvHeaderOf, JsonlWriter, runId, writeJson } from "../output/run-files.js";
import {
  CSV_HEADER,
  csvRows,
  errorLines,
  markdownTable,
  type RunLabel,
  terminalTable,
} from "../output/summary-formats.js";
import { VERSION } from "../version.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { Progress } from "./progress.js";
import { resolveTarget, type TargetFlags } from "./target-options.js";

export interface BenchFlags extends TargetFlags {
  concurrency: number[];
  n: number;
  warmup?: number;
  out: string;
  label?: string;
  csv?: string;
  json: boolean;
  quiet: boolean;
}

/** The run's configuration as written to run.json: never the API key. */
function publicConfig(f: BenchFlags): Record<string, unknown> {
  const { apiKey: _key, simApiKey: _simKey, ...rest } = f;
  return rest;
}

export async function benchCommand(f: BenchFlags): Promise<number> {
  if (f.csv !== undefined) {
    const header = csvHeaderOf(f.csv);
    if (header !== undefined && header !== CSV_HEADER) {
      throw new UsageError(
        `--csv ${f.csv} has a different header; name a new file or one written by this version`,
      );
    }
  }
  const target = await resolveTarget(f);
  const clock = new Clock();
  const label = f.label ?? (target.sim ? "sim" : new URL(target.endpoint.origin).hostname);
  const id = runId(clock.wallStart, label);
  const dir = createRunDir(f.out, id);
  const run: RunLabel = { runId: id, startedAt: clock.wallStart.toISOString() };
  const info = {
    tool: { name: "streamslo", version: VERSION, node: process.version },
    run_id: id,
    started_at: run.startedAt,
    endpoint: {
      url: `${target.endpoint.origin}${target.endpoint.path}`,
      api: target.endpoint.api,
      model: target.model,
      models: target.models,
      simulator: target.sim ? target.sim.params : undefined,
    },
    config: publicConfig(f),
  };
  writeJson(join(dir, "run.json"), info);
  if (!f.quiet) {
    const where = target.sim
      ? "the embedded simulator (no --url given)"
      : `${target.endpoint.origin}${target.endpoint.path}`;
    process.stderr.write(`streamslo ${VERSION}: benchmarking ${where}, model ${target.model}\n`);
  }

  const jsonl = new JsonlWriter(join(dir, "requests.jsonl"));
  const progress = new Progress(!f.quiet && !f.json);
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) return;
    process.stderr.write("\ninterrupted: finishing in-flight requests as aborted and writing results\n");
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
  let result: BenchResult;
  try {
    result = await runBench(
      {
        generation: target.generation,
        send: {
          endpoint: target.endpoint,
          stream: target.generation.stream,
          apiKey: target.apiKey,
          headersTimeoutMs: target.headersTimeoutMs,
          bodyTimeoutMs: target.bodyTimeoutMs,
        },
        prompt: target.prompt,
        concurrencies: f.concurrency,
        n: f.n,
        warmup: f.warmup,
      },
      dispatcher,
      clock,
      {
        onLevelStart: (level, total) => progress.startLevel(level.scenario, total),
        onRecord: (rec) => {
          jsonl.write(rec);
          progress.tick(rec.outcome !== "ok");
        },
        onLevelEnd: () => progress.endLevel(),
      },
      interrupt.signal,
    );
  } finally {
    progress.stop();
    jsonl.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await dispatcher.close().catch(() => undefined);
    await target.sim?.close();
  }

  writeOutputs(dir, f, run, info, result);
  if (f.json) {
    process.stdout.write(`${JSON.stringify(summaryDocument(info, result, dir), null, 2)}\n`);
  } else {
    process.stdout.write(`${terminalTable(result.levels)}\n`);
    for (const line of errorLines(result.levels)) process.stdout.write(`errors ${line}\n`);
    process.stdout.write(`results in ${dir}\n`);
  }
  if (result.fatal) {
    process.stderr.write(
      `streamslo: every request failed with ${result.fatal.code}: ${result.fatal.message}. Check --url, --model and --api-key.\n`,
    );
    return EXIT.endpoint;
  }
  return result.interrupted ? EXIT.interrupted : EXIT.ok;
}

function summaryDocument(info: Record<string, unknown>, result: BenchResult, dir: string) {
  return {
    ...info,
    run_dir: dir,
    interrupted: result.interrupted,
    fatal: result.fatal ?? null,
    levels: result.levels satisfies LevelSummary[],
  };
}

function writeOutputs(
  dir: string,
  f: BenchFlags,
  run: RunLabel,
  info: Record<string, unknown>,
  result: BenchResult,
): void {
  writeJson(join(dir, "summary.json"), summaryDocument(info, result, dir));
  const rows = csvRows(result.levels, run);
  writeFileSync(join(dir, "summary.csv"), `${CSV_HEADER}\n${rows}`);
  writeFileSync(
    join(dir, "summary.md"),
    `# streamslo run ${run.runId}\n\n${markdownTable(result.levels, run)}`,
  );
  if (f.csv !== undefined) {
    appendFileSync(f.csv, csvHeaderOf(f.csv) === undefined ? `${CSV_HEADER}\n${rows}` : rows);
  }
}
