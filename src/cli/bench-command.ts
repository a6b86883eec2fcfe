import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Clock } from "../client/clock.js";
import { generationDispatcher } from "../client/dispatcher.js";
import { shownUrl } from "../client/endpoint.js";
import { ServerMetricsScraper } from "../client/server-metrics-scraper.js";
import { type ArrivalProcess, arrivalTimes } from "../core/arrivals.js";
import { type Conversation, DatasetError, parseConversations } from "../core/dataset.js";
import {
  failedShareText,
  failureWarnings,
  levelsOverFailedShare,
  levelsWithoutSuccess,
  noSuccessText,
} from "../core/failure-share.js";
import { type LengthDistribution, meanLength } from "../core/length-distribution.js";
import { promptLengthWarning } from "../core/prompt-length.js";
import { redactUrlSecrets } from "../core/redact.js";
import { createRng, deriveSeed } from "../core/rng.js";
import { sessionTurn, thinkTime, turnsOf } from "../core/session-workload.js";
import { shownText } from "../core/shown-text.js";
import { needsText } from "../core/slo-spec.js";
import type { TraceFormat } from "../core/trace.js";
import { tracePrompt } from "../core/trace-prompt.js";
import { type Baseline, measureBaseline } from "../load/baseline.js";
import {
  BenchRunner,
  isFatalCode,
  type LevelResult,
  type LoadLevel,
  type StopReason,
} from "../load/bench-run.js";
import { type CapacityResult, findCapacity, invalidBound } from "../load/capacity-search.js";
import { ServerObserver } from "../load/server-observer.js";
import { runAutoSweep } from "../load/sweep.js";
import { capacityText } from "../output/capacity-text.js";
import { csvHeaderOf, JsonlWriter, runId, writeJson } from "../output/run-files.js";
import {
  CSV_HEADER,
  csvRows,
  detailLines,
  errorLines,
  markdownTable,
  objectivesTable,
  type RunLabel,
  terminalTable,
} from "../output/summary-formats.js";
import { checkTrace, readTrace, TraceFileError, type TraceSelection } from "../output/trace-file.js";
import { VERSION } from "../version.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { fileErrorWords } from "./file-errors.js";
import { interruptSignal } from "./interrupt.js";
import { fatalFailures, measuredPerLevel, refuseOpenLoopFlags } from "./load-flags.js";
import { Progress } from "./progress.js";
import { makeRunFolder } from "./run-folder.js";
import { loadSlo } from "./slo-option.js";
import { speechBenchCommand } from "./speech-bench-command.js";
import type { SpeechFlags } from "./speech-options.js";
import { resolveTarget, type TargetFlags } from "./target-options.js";

export interface BenchFlags extends TargetFlags, SpeechFlags {
  concurrency?: number[];
  rate?: number[];
  trace?: string;
  traceFormat?: TraceFormat;
  traceSpeed: number;
  traceFrom?: number;
  traceTo?: number;
  traceRows?: number;
  traceBlockTokens: number;
  sessions?: number;
  turns?: number;
  turnTokens: LengthDistribution;
  thinkTime?: LengthDistribution;
  arrivals?: ArrivalProcess;
  burstiness: number;
  rampUp: number;
  duration?: number;
  maxConcurrency?: number;
  sweep?: "auto";
  sweepLevels: number;
  sweepMaxConcurrency: number;
  n?: number;
  warmup?: number;
  baseline: number;
  slo: string[];
  findCapacity: boolean;
  capacityMode?: "rate" | "concurrency";
  capacityStart: number;
  capacityMax: number;
  capacityTolerance: number;
  capacityBudget: number;
  maxErrorRate?: number;
  maxSendLagMs: number;
  maxLoopLagMs: number;
  serverMetrics?: string;
  out: string;
  label?: string;
  csv?: string;
  json: boolean;
  quiet: boolean;
}

/** The run's configuration as written to run.json: never the API key, nor credentials in a URL. */
function publicConfig(f: BenchFlags): Record<string, unknown> {
  const { apiKey: _key, simApiKey: _simKey, ...rest } = f;
  return Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, typeof v === "string" ? redactUrlSecrets(v) : v]),
  );
}

type Plan =
  | { kind: "levels"; levels: LoadLevel[] }
  | { kind: "trace"; file: string }
  | { kind: "sessions"; users: number[]; rates?: number[]; conversations?: Conversation[] }
  | { kind: "sweep" }
  | { kind: "capacity"; mode: "rate" | "concurrency" };

/**
 * The most streams and requests per second one client process is allowed to drive. Far below what
 * would exhaust it: at 100,000 users the warm-up alone (one request each) froze the process, Ctrl-C
 * included, and a rate of 1e9 scheduled a billion warm-up arrivals. The bench section of the README
 * measures the client up to 1,024 streams and 2,000 req/s.
 */
const MAX_STREAMS = 10_000;
const MAX_RATE = 10_000;

function checkLoadBounds(f: BenchFlags): void {
  const over = (values: number[] | undefined, max: number) => values?.find((v) => v > max);
  const c = over(
    [...(f.concurrency ?? []), f.maxConcurrency ?? 0, f.sweepMaxConcurrency].concat(
      f.capacityMode === "concurrency" ? [f.capacityStart, f.capacityMax] : [],
    ),
    MAX_STREAMS,
  );
  if (c !== undefined)
    throw new UsageError(
      `${c} concurrent streams is more than one client process drives (at most ${MAX_STREAMS})`,
    );
  const r = over(
    (f.rate ?? []).concat(f.capacityMode !== "concurrency" ? [f.capacityStart, f.capacityMax] : []),
    MAX_RATE,
  );
  if (r !== undefined)
    throw new UsageError(`${r} requests/s is more than one client process sends (at most ${MAX_RATE})`);
  if (f.findCapacity && f.capacityStart > f.capacityMax)
    throw new UsageError(
      `--capacity-start ${f.capacityStart} is above --capacity-max ${f.capacityMax}; start below the maximum`,
    );
  // Concurrency is a count of streams: 0.4 would run 0 of them, 1.5 two.
  const fraction = [f.capacityStart, f.capacityMax].find((x) => !Number.isInteger(x));
  if (f.findCapacity && f.capacityMode === "concurrency" && fraction !== undefined)
    throw new UsageError(
      `--capacity-mode concurrency searches whole numbers of streams; ${fraction} is not one: give --capacity-start and --capacity-max as whole numbers`,
    );
}

/** Checks that the load flags make one coherent plan; all before any load is sent. */
function loadPlan(f: BenchFlags, hasObjectives: boolean): Plan {
  const chosen = [
    f.concurrency && "--concurrency",
    f.rate && "--rate",
    f.trace && "--trace",
    f.sweep && "--sweep",
    f.findCapacity && "--find-capacity",
  ].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`use only one of ${chosen.join(", ")}`);
  if (f.sessions !== undefined && (f.findCapacity || f.trace !== undefined))
    throw new UsageError(
      `--sessions and ${f.findCapacity ? "--find-capacity" : "--trace"} do not combine: use one`,
    );
  if (f.findCapacity) {
    if (!hasObjectives)
      throw new UsageError(
        "--find-capacity needs objectives: pass --slo slo.yaml or --slo 'ttft p(95)<300ms'",
      );
    // A search over concurrency runs closed loops, which have no arrivals to shape.
    if (f.capacityMode === "concurrency") refuseOpenLoopFlags(f);
    return { kind: "capacity", mode: f.capacityMode ?? "rate" };
  }
  if (f.sessions !== undefined) {
    const loads = [f.sweep && "--sweep", f.trace && "--trace"].filter(Boolean);
    if (loads.length > 0)
      throw new UsageError(`--sessions runs users (-c) or session arrivals (-r): drop ${loads.join(", ")}`);
    if (!f.rate) refuseOpenLoopFlags(f);
    const other = [
      f.n !== undefined && "-n (--sessions counts sessions)",
      f.duration !== undefined && "--duration",
      f.warmup !== undefined && "--warmup",
      f.prompt !== undefined && "--prompt",
      f.promptFile !== undefined && "--prompt-file",
      f.inputTokens !== undefined && "--input-tokens (use --turn-tokens)",
    ].filter(Boolean);
    if (other.length > 0)
      throw new UsageError(`--sessions runs multi-turn conversations: drop ${other.join(", ")}`);
    return {
      kind: "sessions",
      users: f.concurrency ?? [1, 4, 8],
      rates: f.rate,
      conversations: f.dataset !== undefined ? readConversations(f.dataset, f.datasetFormat) : undefined,
    };
  }
  if (f.sweep) return { kind: "sweep" };
  if (f.trace !== undefined) {
    // The trace sets when each request leaves and what it asks: the flags that would say otherwise go.
    refuseOpenLoopFlags(f);
    const other = [
      f.n !== undefined && "-n (use --trace-rows)",
      f.duration !== undefined && "--duration (use --trace-to)",
      f.warmup !== undefined && "--warmup",
      f.inputTokens !== undefined && "--input-tokens",
      f.outputTokens !== undefined && "--output-tokens",
      f.prompt !== undefined && "--prompt",
      f.promptFile !== undefined && "--prompt-file",
      f.dataset !== undefined && "--dataset",
    ].filter(Boolean);
    if (other.length > 0)
      throw new UsageError(`--trace sets each request's time and lengths: drop ${other.join(", ")}`);
    if (f.traceFrom !== undefined && f.traceTo !== undefined && f.traceTo <= f.traceFrom)
      throw new UsageError(`--trace-to ${f.traceTo} is not after --trace-from ${f.traceFrom}`);
    return { kind: "trace", file: f.trace };
  }
  if (f.rate) return { kind: "levels", levels: f.rate.map((rate) => ({ kind: "rate", rate })) };
  refuseOpenLoopFlags(f);
  return {
    kind: "levels",
    levels: (f.concurrency ?? [1, 4, 8]).map((concurrency) => ({ kind: "concurrency", concurrency })),
  };
}

export async function benchCommand(f: BenchFlags): Promise<number> {
  checkLoadBounds(f);
  if (f.protocol !== undefined && f.protocol !== "openai") return speechBenchCommand(f);
  if (f.csv !== undefined) {
    if (statSync(f.csv, { throwIfNoEntry: false })?.isDirectory())
      throw new UsageError(`--csv ${f.csv}: it is a folder, not a file (EISDIR); name a file in it`);
    const header = csvHeaderOf(f.csv);
    if (header !== undefined && header !== CSV_HEADER) {
      throw new UsageError(
        `--csv ${f.csv} has a different header; name a new file or one written by this version`,
      );
    }
    // Found unwritable now, not after the whole run.
    appendFileSync(f.csv, "");
  }
  const slo = loadSlo(f.slo);
  const plan = loadPlan(f, (slo?.objectives.length ?? 0) > 0);
  // Every row is read and checked before any load: a bad one is a line number and a reason, exit 2.
  const trace = plan.kind === "trace" ? await traceLevel(f, plan.file) : undefined;
  if (f.burstiness !== 1 && f.arrivals !== undefined && f.arrivals !== "gamma") {
    throw new UsageError("--burstiness shapes gamma arrivals; drop it or use --arrivals gamma");
  }
  const arrivals: ArrivalProcess = f.arrivals ?? (f.burstiness !== 1 ? "gamma" : "poisson");
  // Listening from here: a signal during the pre-flight requests ends the command cleanly too.
  let loading = false;
  const interrupt = interruptSignal(() =>
    loading ? "aborting in-flight requests and writing results" : "stopping before the first request",
  );
  const stoppedEarly = () => {
    interrupt.dispose();
    process.stderr.write("streamslo: nothing was sent or measured, so no run folder was written\n");
    return EXIT.interrupted;
  };
  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    target = await resolveTarget(f, interrupt.signal);
  } catch (err) {
    // The pre-flight request was cut short by the signal: that is the user's stop, not an endpoint error.
    if (interrupt.signal.aborted) return stoppedEarly();
    interrupt.dispose();
    throw err;
  }
  if (!f.quiet && !interrupt.signal.aborted) {
    const where = target.sim ? "the embedded simulator (no --url given)" : shownUrl(target.endpoint);
    process.stderr.write(`streamslo ${VERSION}: benchmarking ${where}, model ${target.model}\n`);
    const p = target.workload.prompts;
    if (p.kind === "synthetic")
      process.stderr.write(
        p.costs && !p.prefix
          ? `prompts: exact lengths by ${p.costs.source}, chat template included\n`
          : "prompts: lengths estimated (a word counts as one token); --tokenizer server makes them exact\n",
      );
  }
  // Until the run's own try/finally below, a failure must still stop the simulator and hand
  // Ctrl-C back to the default (ending the process), or the process would linger.
  const giveUp = async (err: unknown): Promise<never> => {
    interrupt.dispose();
    await target.sim?.close();
    throw err;
  };
  const server = await serverObserver(f, target.endpoint.origin, target.model).catch(giveUp);
  if (interrupt.signal.aborted) {
    await target.sim?.close();
    return stoppedEarly();
  }
  loading = true;
  const clock = new Clock();
  const label = f.label ?? (target.sim ? "sim" : new URL(target.endpoint.origin).hostname);
  const id = runId(clock.wallStart, label);
  let dir: string;
  try {
    dir = makeRunFolder(f.out, id);
  } catch (err) {
    return giveUp(err);
  }
  const run: RunLabel = { runId: id, startedAt: clock.wallStart.toISOString() };
  const info = {
    tool: { name: "streamslo", version: VERSION, node: process.version },
    run_id: id,
    started_at: run.startedAt,
    endpoint: {
      url: shownUrl(target.endpoint),
      api: target.endpoint.api,
      model: target.model,
      models: target.models,
      simulator: target.sim ? { ...target.sim.params, apiKey: undefined } : undefined,
    },
    config: publicConfig(f),
  };
  let jsonl: JsonlWriter;
  try {
    writeJson(join(dir, "run.json"), info);
    jsonl = new JsonlWriter(join(dir, "requests.jsonl"));
  } catch (err) {
    return giveUp(err);
  }
  const progress = new Progress(!f.quiet && !f.json);
  const dispatcher = generationDispatcher(target.endpoint.origin, target.tls);
  const levels: LevelResult[] = [];
  let capacity: CapacityResult | undefined;
  let baseline: Baseline | undefined;
  let redirectSaid = false;
  let choicesSaid = false;
  const runner = new BenchRunner(
    {
      generation: target.generation,
      send: {
        endpoint: target.endpoint,
        stream: target.generation.stream,
        apiKey: target.apiKey,
        headersTimeoutMs: target.headersTimeoutMs,
        bodyTimeoutMs: target.bodyTimeoutMs,
        maxRequestMs: target.maxRequestMs,
        maxResponseBytes: target.maxResponseBytes,
        keepText: needsText(slo),
      },
      workload: target.workload,
      n: measuredPerLevel(f),
      durationS: f.duration,
      warmup: f.warmup,
      arrivals: { process: arrivals, burstiness: f.burstiness, rampUpS: f.rampUp },
      maxConcurrency: f.maxConcurrency,
      maxErrorRate: f.maxErrorRate,
      slo,
      validity: { maxSendLagMs: f.maxSendLagMs, maxLoopLagMs: f.maxLoopLagMs },
      server: server?.observer,
    },
    dispatcher,
    clock,
    {
      onLevelStart: (level, total) => progress.startLevel(level.scenario, total),
      onRecord: (rec) => {
        jsonl.write(rec);
        if (rec.choices !== undefined && !choicesSaid) {
          choicesSaid = true;
          process.stderr.write(
            `streamslo: the server answered with ${rec.choices} choices per request (n > 1); streamslo measures choice 0 alone (its TTFT, ITL and tokens), and the other choices' tokens are in no figure\n`,
          );
        }
        if (rec.redirects && !redirectSaid) {
          redirectSaid = true;
          process.stderr.write(`streamslo: ${redirectNote(shownUrl(target.endpoint), rec.redirects)}\n`);
        }
        // Cool-down requests cancelled at the end of a level are not failures.
        progress.tick(rec.outcome !== "ok" && rec.error?.code !== "aborted");
      },
      onLevelEnd: (r) => {
        levels.push(r);
        progress.endLevel();
      },
    },
    interrupt.signal,
  );
  try {
    if (f.baseline > 0) {
      if (!f.quiet && !f.json)
        process.stderr.write(
          `baseline: ${3 * f.baseline} plain-HTTP and one-token requests, one at a time\n`,
        );
      baseline = await measureBaseline(
        f.baseline,
        target.generation,
        runner.plan.send,
        target.workload,
        dispatcher,
        clock,
        (rec) => jsonl.write(rec),
        interrupt.signal,
      );
    }
    if (plan.kind === "levels") {
      for (const level of plan.levels) {
        if (runner.stopped) break;
        await runner.runLevel(level);
      }
    } else if (plan.kind === "sessions") {
      const synthetic = {
        turnTokens: f.turnTokens,
        thinkMs: f.thinkTime,
        turns: f.turns ?? (plan.conversations ? Number.POSITIVE_INFINITY : 3),
        conversations: plan.conversations,
      };
      const w = target.workload;
      // Closed: users run sessions back to back. Open (-r): sessions arrive at that many a second.
      const loads = plan.rates ?? plan.users;
      for (const load of loads) {
        if (runner.stopped) break;
        const rate = plan.rates ? load : undefined;
        const sessionArrivals =
          rate !== undefined
            ? arrivalTimes(
                { process: arrivals, rate, burstiness: f.burstiness, rampUpS: f.rampUp },
                createRng(deriveSeed(w.seed, Math.round(rate * 1000))),
              )
            : undefined;
        await runner.runLevel({
          kind: "sessions",
          rate,
          plan: {
            sessions: f.sessions as number,
            users: rate === undefined ? load : 0,
            arrivals: sessionArrivals,
            turns: (s) => turnsOf(synthetic, s),
            turnInput: (s, t) => sessionTurn(w, synthetic, s, t),
            thinkMs: (s, t) => thinkTime(w, synthetic, s, t),
          },
        });
      }
    } else if (plan.kind === "trace") {
      if (trace) await runner.runLevel(trace(target.workload.seed));
    } else if (plan.kind === "sweep") {
      // Fewer measured requests than streams measure part of one wave, beside warm-up and cool-down
      // requests they do not count: the saturated throughput comes out far too low (8.9 req/s
      // against 23.5 at c=64 with -n 32). Saturate with no more streams than measured requests.
      const n = runner.plan.n;
      const saturation = Math.min(f.sweepMaxConcurrency, n);
      if (saturation < f.sweepMaxConcurrency && !f.quiet)
        process.stderr.write(
          `streamslo: --sweep auto saturates at c=${saturation}, not ${f.sweepMaxConcurrency}: -n ${n} requests cannot fill more streams (raise -n to saturate higher)\n`,
        );
      await runAutoSweep(runner, { levels: f.sweepLevels, saturationConcurrency: saturation });
    } else {
      capacity = await findCapacity(runner, {
        mode: plan.mode,
        start: f.capacityStart,
        max: f.capacityMax,
        tolerance: f.capacityTolerance,
        budgetMs: f.capacityBudget * 1000,
        noiseMargin: 0.05,
        now: () => clock.now(),
      });
    }
  } finally {
    progress.stop();
    jsonl.close();
    await dispatcher.close().catch(() => undefined);
    await target.sim?.close();
  }

  const stop = runner.stopReason;
  const lengthWarnings = promptLengthWarnings(f, levels);
  const requested = f.inputTokens !== undefined ? meanLength(f.inputTokens) : undefined;
  const summary = summaryDocument(info, dir, levels, stop, capacity, slo !== undefined, requested);
  const doc = {
    ...summary,
    warnings: [...summary.warnings, ...lengthWarnings],
    baseline: baseline ?? null,
  };
  try {
    writeOutputs(dir, f, run, doc, levels);
  } finally {
    // Only now: a second Ctrl-C while results are being written must not kill the process.
    interrupt.dispose();
  }
  if (f.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(`${terminalTable(levels)}\n`);
    const table = objectivesTable(levels);
    if (table) process.stdout.write(`\n${table}\n`);
    for (const line of [...detailLines(levels), ...errorLines(levels).map((l) => `errors ${l}`)]) {
      process.stdout.write(`${line}\n`);
    }
    if (capacity) process.stdout.write(`\n${capacityText(capacity)}\n`);
    process.stdout.write(`results in ${dir}\n`);
  }
  for (const w of lengthWarnings) process.stderr.write(`streamslo: warning: ${w}\n`);
  // Levels without a single success get their own line, with the exit code, below.
  for (const f of levelsOverFailedShare(levels.map((l) => l.summary)))
    process.stderr.write(`streamslo: warning: ${failedShareText(f)}\n`);
  return exitCode(stop, levels, capacity);
}

/** --sessions --dataset: the conversations of a ShareGPT file or an OpenAI messages JSONL file. */
function readConversations(path: string, format?: "jsonl" | "sharegpt"): Conversation[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --dataset ${path}: ${fileErrorWords(err)}`);
  }
  try {
    return parseConversations(text, path, format ?? (path.endsWith(".jsonl") ? "jsonl" : "sharegpt"));
  } catch (err) {
    if (err instanceof DatasetError) throw new UsageError(err.message);
    throw err;
  }
}

/** The trace's selection from the flags. */
function traceSelection(f: BenchFlags): TraceSelection {
  return {
    format: f.traceFormat,
    fromMs: f.traceFrom !== undefined ? f.traceFrom * 1000 : undefined,
    toMs: f.traceTo !== undefined ? f.traceTo * 1000 : undefined,
    rows: f.traceRows,
  };
}

/**
 * Checks the whole trace (every row, before any load), then gives the level that replays it: rows
 * read again from the file as they are due, each prompt built from its lengths and hash ids.
 */
async function traceLevel(f: BenchFlags, file: string): Promise<(seed: number) => LoadLevel> {
  const sel = traceSelection(f);
  let summary: Awaited<ReturnType<typeof checkTrace>>;
  try {
    summary = await checkTrace(file, sel);
  } catch (err) {
    if (err instanceof TraceFileError) throw new UsageError(err.message);
    throw err;
  }
  const spanS = summary.spanMs / 1000 / f.traceSpeed;
  if (!f.quiet && !f.json)
    process.stderr.write(
      `trace: ${summary.rows} rows (${summary.format}) over ${spanS.toFixed(1)} s at --trace-speed ${f.traceSpeed}\n`,
    );
  const rate = spanS > 0 ? (summary.rows - 1) / spanS : summary.rows;
  return (seed) => ({
    kind: "trace",
    speed: f.traceSpeed,
    rate,
    rows: async function* () {
      for await (const row of readTrace(file, { ...sel, format: summary.format }))
        yield {
          atMs: row.atMs,
          input: {
            prompt: tracePrompt(row, row.index, seed, f.traceBlockTokens),
            maxTokens: row.outputTokens,
            exact: true,
          },
        };
    },
  });
}

/**
 * Finds the server's own Prometheus metrics: --server-metrics URL, or {origin}/metrics when not
 * given; "none" turns it off. Only a scrape that streamslo recognises (vLLM, SGLang, TGI,
 * llama.cpp names) is used.
 */
async function serverObserver(f: BenchFlags, origin: string, model: string) {
  if (f.serverMetrics === "none") return undefined;
  const url = f.serverMetrics ?? `${origin}/metrics`;
  const scraper = new ServerMetricsScraper(url, model);
  const first = await scraper.snapshot();
  if (!first) {
    if (f.serverMetrics !== undefined) {
      process.stderr.write(
        `streamslo: ${url} gave no vLLM, SGLang, TGI or llama.cpp metrics; going on without them\n`,
      );
    }
    return undefined;
  }
  if (!f.quiet && !f.json) process.stderr.write(`server metrics: ${first.family} names at ${url}\n`);
  return { observer: new ServerObserver(scraper), family: first.family };
}

/** With --input-tokens: a warning per level whose prompts the server counted more than 10% off. */
function promptLengthWarnings(f: BenchFlags, levels: LevelResult[]): string[] {
  if (f.inputTokens === undefined) return [];
  const asked = meanLength(f.inputTokens);
  return levels.flatMap((l) => promptLengthWarning(l.summary.scenario, asked, l.summary.input_tokens) ?? []);
}

/** Said once per run: where the requests were sent on to, and what --url would save the hop. */
function redirectNote(url: string, hops: { status: number; to: string }[]): string {
  const last = hops[hops.length - 1];
  const chain = hops.map((h) => `${h.status} to ${h.to}`).join(", then ");
  return `${url} redirects (${chain}); requests follow it, each hop timed as part of the request: give --url ${last?.to} to measure the endpoint itself`;
}

function exitCode(stop: StopReason | undefined, levels: LevelResult[], capacity?: CapacityResult): number {
  if (stop?.kind === "fatal") {
    process.stderr.write(
      `streamslo: every request failed with ${stop.error.code}: ${shownText(stop.error.message).replace(/\.$/, "")}. Check --url, --model and --api-key.\n`,
    );
    return EXIT.endpoint;
  }
  if (stop?.kind === "interrupted") return EXIT.interrupted;
  if (stop?.kind === "abort-on-fail") {
    process.stderr.write(
      `streamslo: ${stop.level}: objective "${stop.objective.objective}" failed (abortOnFail): run stopped\n`,
    );
    return EXIT.sloFailed;
  }
  if (stop?.kind === "max-error-rate") {
    process.stderr.write(
      `streamslo: ${stop.level}: ${(100 * stop.errorRate).toFixed(1)}% of requests failed, over --max-error-rate: run stopped\n`,
    );
    return EXIT.sloFailed;
  }
  const fatal = fatalFailures(
    levels.map((l) => ({ ok: l.summary.ok, codes: l.summary.errors_by_code })),
    isFatalCode,
  );
  if (fatal) {
    process.stderr.write(`streamslo: every request failed (${fatal}). Check --url, --model and --api-key.\n`);
    return EXIT.endpoint;
  }
  const empty = levelsWithoutSuccess(levels.map((l) => l.summary));
  // A search judges loads by the SLO, and a load where all failed is one it fails, unless none succeeded anywhere.
  if (empty.length > 0 && (!capacity || empty.length === levels.length)) {
    for (const f of empty) process.stderr.write(`streamslo: ${noSuccessText(f)}\n`);
    return EXIT.noSuccess;
  }
  if (capacity) {
    if (capacity.capacity !== undefined) return EXIT.ok;
    const invalid = invalidBound(capacity);
    if (invalid) {
      process.stderr.write(
        `streamslo: no capacity verdict: the load it rests on (${invalid.result.summary.scenario}) is INVALID (${invalid.result.validity.reasons.join("; ")}); rerun on a less loaded client machine, or raise the limit it passed\n`,
      );
      return EXIT.invalid;
    }
    return EXIT.sloFailed;
  }
  const failed = levels.filter((l) => l.objectives.some((o) => !o.pass));
  if (failed.length > 0) {
    process.stderr.write(`streamslo: SLO failed at ${failed.map((l) => l.summary.scenario).join(", ")}\n`);
    return EXIT.sloFailed;
  }
  return EXIT.ok;
}

function summaryDocument(
  info: Record<string, unknown>,
  dir: string,
  levels: LevelResult[],
  stop: StopReason | undefined,
  capacity: CapacityResult | undefined,
  hasSlo: boolean,
  /** --input-tokens' mean: beside each level's server-counted `input_tokens`. */
  requestedInput?: number,
) {
  return {
    ...info,
    run_dir: dir,
    interrupted: stop?.kind === "interrupted",
    stop_reason: stop ?? null,
    fatal: stop?.kind === "fatal" ? stop.error : null,
    warnings: failureWarnings(levels.map((l) => l.summary)),
    slo_pass: hasSlo ? levels.every((l) => l.objectives.every((o) => o.pass)) : null,
    levels: levels.map((l) => ({
      ...l.summary,
      ...(requestedInput !== undefined ? { input_tokens_requested: requestedInput } : {}),
      objectives: l.objectives,
      validity: l.validity,
      server: l.server ?? null,
    })),
    capacity: capacity
      ? {
          mode: capacity.mode,
          capacity: capacity.capacity ?? null,
          failed_at: capacity.failedAt ?? null,
          // The load the verdict rests on was not a valid measurement: no verdict (exit 5).
          bound_invalid: invalidBound(capacity) !== undefined,
          ending: capacity.ending,
          trials: capacity.trials.map((t) => ({
            load: t.load,
            pass: t.pass,
            repeated: t.repeated,
            scenario: t.result.summary.scenario,
          })),
        }
      : null,
  };
}

function writeOutputs(dir: string, f: BenchFlags, run: RunLabel, doc: unknown, levels: LevelResult[]): void {
  writeJson(join(dir, "summary.json"), doc);
  const rows = csvRows(levels, run);
  writeFileSync(join(dir, "summary.csv"), `${CSV_HEADER}\n${rows}`);
  writeFileSync(join(dir, "summary.md"), `# streamslo run ${run.runId}\n\n${markdownTable(levels, run)}`);
  if (f.csv !== undefined) {
    appendFileSync(f.csv, csvHeaderOf(f.csv) === undefined ? `${CSV_HEADER}\n${rows}` : rows);
  }
}
