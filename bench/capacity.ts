import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ClientName, WindowResult, WindowTask } from "./client-worker.js";
import { runForJson, runWorker, startEmitter } from "./processes.js";

/** The product, the minimal reference client, and a transport-only floor. */
export const CLIENTS: ClientName[] = ["streamslo", "reference", "transport"];
/** Clients of the unpaced comparison: the Node ones, and the asyncio/aiohttp loop where Python has it. */
type AnyClient = ClientName | "aiohttp";
const AIOHTTP_CLIENT = fileURLToPath(new URL("../../bench/aiohttp-client.py", import.meta.url));

/** The loop-lag budget a client must stay within for its throughput to count (issue G). */
const LAG_LIMIT_MS = 1;
/** A looser budget, reported beside it: on a shared VM the 1 ms limit sits at the machine's own floor. */
const LOOSE_LAG_LIMIT_MS = 5;
/** Achieved below this share of the offered rate means someone (client or emitter) fell behind. */
const KEEP_UP = 0.95;
/** Other work on a shared machine only ever adds lag, so a step over the limit is tried this often in all. */
const ATTEMPTS = 3;
const TOKENS = 128;
const WARMUP_MS = 500;
const MEASURE_MS = 2000;
/** Per-stream rate for the stream-count ladder: one token every 20 ms, a typical decode speed. */
const PER_STREAM = 50;

export interface CapacityStep extends WindowResult {
  client: AnyClient;
  streams: number;
  /** Offered content events per second (all streams); null: the emitter sends as fast as it can. */
  offered_events_per_s: number | null;
  /** Events per second of the client's own CPU time: its cost per event, whatever else runs. */
  events_per_cpu_s: number;
  passed: boolean;
}

/** One window of one client; `python` runs the aiohttp client (bench/aiohttp-client.py). */
async function step(
  client: AnyClient,
  streams: number,
  offered: number | null,
  python = "python3",
): Promise<CapacityStep> {
  const itl = offered === null ? 0 : (streams * 1000) / offered;
  const emitter = await startEmitter("fast-emitter", {
    EMIT_TOKENS: String(TOKENS),
    EMIT_ITL_MS: String(itl),
  });
  try {
    const load = {
      url: `http://127.0.0.1:${emitter.port}/v1`,
      streams,
      maxTokens: TOKENS,
      warmupMs: WARMUP_MS,
      measureMs: MEASURE_MS,
    };
    // The Python client takes the same load fields and prints a result of the same shape.
    const r =
      client === "aiohttp"
        ? await runForJson<WindowResult>(python, [AIOHTTP_CLIENT, JSON.stringify(load)], "aiohttp client")
        : await runWorker<WindowResult>("client-worker", {
            mode: "window",
            client,
            ...load,
          } satisfies WindowTask);
    const row: CapacityStep = {
      client,
      streams,
      offered_events_per_s: offered,
      ...r,
      events_per_cpu_s: r.cpu > 0 ? Math.round(r.events_per_s / r.cpu) : 0,
      passed: false,
    };
    row.passed = kept(row) && r.loop_lag_p99_ms <= LAG_LIMIT_MS;
    process.stderr.write(`capacity ${JSON.stringify(row)}\n`);
    return row;
  } finally {
    await emitter.stop();
  }
}

/**
 * A paced step, tried again while its loop lag is just over the limit (up to twice it), where a
 * burst of other work decides; the attempt with the least lag stands.
 */
async function pacedStep(client: ClientName, streams: number, offered: number): Promise<CapacityStep> {
  let best = await step(client, streams, offered);
  for (let i = 1; i < ATTEMPTS; i++) {
    const lag = best.loop_lag_p99_ms;
    if (lag <= LAG_LIMIT_MS || lag > 2 * LAG_LIMIT_MS) break;
    const s = await step(client, streams, offered);
    if (s.loop_lag_p99_ms < lag) best = s;
  }
  return best;
}

const kept = (s: CapacityStep) =>
  s.offered_events_per_s === null || s.events_per_s >= KEEP_UP * s.offered_events_per_s;

/**
 * Doubles the load from `start` until the client falls behind or its lag passes the loose limit,
 * and reports the highest step up to which every step was within each limit. Doubling is coarse, but finer steps would only
 * resolve noise: lag p99 on this kind of machine moves by a few tenths of a ms from run to run.
 */
async function ladder(
  start: number,
  max: number,
  run: (x: number) => Promise<CapacityStep>,
): Promise<Ladder> {
  const steps: CapacityStep[] = [];
  let within: number | null = null;
  let withinLoose: number | null = null;
  let unbroken = true;
  for (let x = start; x <= max; x *= 2) {
    const s = await run(x);
    steps.push(s);
    if (!kept(s) || s.loop_lag_p99_ms > LOOSE_LAG_LIMIT_MS) break;
    unbroken &&= s.loop_lag_p99_ms <= LAG_LIMIT_MS;
    if (unbroken) within = x;
    withinLoose = x;
  }
  return { within, within_loose: withinLoose, steps };
}

/** The highest load within each lag limit (null: not even the first step), and every step. */
export interface Ladder {
  within: number | null;
  within_loose: number | null;
  steps: CapacityStep[];
}

export interface SaturatedRow {
  client: AnyClient;
  streams: number;
  /** Best of the rounds (contention only ever lowers these). */
  events_per_s: number;
  events_per_cpu_s: number;
  rounds: CapacityStep[];
}

export interface CapacityResult {
  /** Whether the asyncio/aiohttp comparison could run, and why not. */
  aiohttp: { available: boolean; note: string };
  tokens_per_request: number;
  lag_limit_ms: number;
  loose_lag_limit_ms: number;
  /** Unpaced emitter: events/s each client takes in, whatever its loop lag. */
  saturated: SaturatedRow[];
  /** Paced emitter, rising events/s at a fixed number of streams. */
  rate_ladder: (Ladder & { client: ClientName; streams: number })[];
  /** Each stream at `per_stream_events_per_s`, rising numbers of streams. */
  stream_ladder: (Ladder & { client: ClientName; per_stream_events_per_s: number })[];
}

/**
 * Finds a Python 3 that has aiohttp: $BENCH_PYTHON, else `python3` on the PATH, else the system's
 * (a version manager's python3 often shadows the distribution's, where python3-aiohttp lives).
 */
function findAiohttp(): { python?: string; status: CapacityResult["aiohttp"] } {
  const candidates = [process.env.BENCH_PYTHON, "python3", "/usr/bin/python3"].filter(
    (p): p is string => !!p,
  );
  for (const python of candidates) {
    const probe = "import aiohttp, sys; print(aiohttp.__version__, sys.version.split()[0])";
    const r = spawnSync(python, ["-c", probe], { encoding: "utf8" });
    if (r.status !== 0) continue;
    const [aio, py] = r.stdout.trim().split(" ");
    return {
      python,
      status: {
        available: true,
        note: `aiohttp ${aio} on Python ${py}: bench/aiohttp-client.py in the unpaced rows`,
      },
    };
  }
  const note = `no Python 3 with aiohttp (tried ${candidates.join(", ")}): no asyncio/aiohttp comparison in this run`;
  return { status: { available: false, note } };
}

/** Unpaced: rounds interleave the clients, so a burst of other work does not land on one client only. */
async function saturated(streamCounts: number[], rounds: number, python?: string): Promise<SaturatedRow[]> {
  const rows: SaturatedRow[] = [];
  const clients: AnyClient[] = python ? [...CLIENTS, "aiohttp"] : CLIENTS;
  for (const streams of streamCounts) {
    const byClient = new Map<AnyClient, CapacityStep[]>(clients.map((c) => [c, []]));
    for (let i = 0; i < rounds; i++)
      for (const c of clients) byClient.get(c)?.push(await step(c, streams, null, python));
    for (const [client, steps] of byClient) {
      rows.push({
        client,
        streams,
        events_per_s: Math.max(...steps.map((s) => s.events_per_s)),
        events_per_cpu_s: Math.max(...steps.map((s) => s.events_per_cpu_s)),
        rounds: steps,
      });
    }
  }
  return rows;
}

export async function capacity(streamCounts: number[]): Promise<CapacityResult> {
  const { python, status: aiohttp } = findAiohttp();
  const sat = await saturated(streamCounts, 3, python);
  const rate_ladder: CapacityResult["rate_ladder"] = [];
  for (const streams of streamCounts) {
    for (const client of CLIENTS) {
      const l = await ladder(2000, 512_000, (x) => pacedStep(client, streams, x));
      rate_ladder.push({ client, streams, ...l });
    }
  }
  const stream_ladder: CapacityResult["stream_ladder"] = [];
  for (const client of CLIENTS) {
    const l = await ladder(64, 4096, (s) => pacedStep(client, s, s * PER_STREAM));
    stream_ladder.push({ client, per_stream_events_per_s: PER_STREAM, ...l });
  }
  return {
    aiohttp,
    tokens_per_request: TOKENS,
    lag_limit_ms: LAG_LIMIT_MS,
    loose_lag_limit_ms: LOOSE_LAG_LIMIT_MS,
    saturated: sat,
    rate_ladder,
    stream_ladder,
  };
}
