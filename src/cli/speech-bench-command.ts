import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "undici";
import { Clock } from "../client/clock.js";
import {
  failedShareText,
  failureWarnings,
  levelsOverFailedShare,
  levelsWithoutSuccess,
  noSuccessText,
} from "../core/failure-share.js";
import { redactSecret, redactUrlSecrets } from "../core/redact.js";
import { shownText } from "../core/shown-text.js";
import type { SpeechLevelSummary } from "../core/speech/speech-aggregate.js";
import { STT_PROTOCOLS } from "../core/speech/stt-protocols.js";
import { VOICE_TARGETS, type VoiceTargets } from "../core/speech/voice-targets.js";
import { durationMs, parseWav, resample, toneUtterance, WavError } from "../core/speech/wav.js";
import type { SteadyLevel } from "../load/bench-run.js";
import { isFatalSpeechCode, type SpeechPlan, SpeechRunner, type SpeechTarget } from "../load/speech-run.js";
import { JsonlWriter, runId, writeJson } from "../output/run-files.js";
import {
  speechCsv,
  speechDetailLines,
  speechMarkdownTable,
  speechTargetsText,
  speechTerminalTable,
} from "../output/speech-formats.js";
import { type SimServer, startSimServer } from "../sim/sim-server.js";
import { scriptWords } from "../sim/speech/speech-params.js";
import { STT_SIM_PATHS } from "../sim/speech/stt-sim.js";
import { TTS_SIM_PATH } from "../sim/speech/tts-sim.js";
import { VERSION } from "../version.js";
import type { BenchFlags } from "./bench-command.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { fileErrorWords } from "./file-errors.js";
import { interruptSignal } from "./interrupt.js";
import { fatalFailures, measuredPerLevel, refuseOpenLoopFlags } from "./load-flags.js";
import { Progress } from "./progress.js";
import { makeRunFolder } from "./run-folder.js";
import { simParamsFrom } from "./sim-options.js";

/** Words in the built-in test utterance: about 3 s of audio, the length the voice targets assume. */
const BUILTIN_WORDS = 8;
const DEFAULT_TTS_TEXT =
  "Your table for two is booked for seven tonight. We will send the confirmation to your phone.";

function readFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${fileErrorWords(err)}`);
  }
}

function speechLevels(f: BenchFlags): SteadyLevel[] {
  if (f.sweep || f.findCapacity || f.slo.length > 0)
    throw new UsageError(
      "--sweep, --find-capacity and --slo are for --protocol openai; speech runs are held to the voice targets (--target-*, --gate)",
    );
  if (f.concurrency && f.rate) throw new UsageError("use only one of --concurrency, --rate");
  if (f.rate) return f.rate.map((rate) => ({ kind: "rate", rate }));
  refuseOpenLoopFlags(f);
  return (f.concurrency ?? [1, 4, 8]).map((concurrency) => ({ kind: "concurrency", concurrency }));
}

function voiceTargets(f: BenchFlags): VoiceTargets {
  return {
    firstPartialMs: f.targetFirstPartialMs ?? VOICE_TARGETS.firstPartialMs,
    finalMs: f.targetFinalMs ?? VOICE_TARGETS.finalMs,
    rtf: f.targetRtf ?? VOICE_TARGETS.rtf,
    firstAudioMs: f.targetFirstAudioMs ?? VOICE_TARGETS.firstAudioMs,
    dropRate: f.targetDropRate ?? VOICE_TARGETS.dropRate,
  };
}

/** What to stream and where: validated before anything is sent. */
function speechTarget(f: BenchFlags, sim: SimServer | undefined, apiKey: string | undefined): SpeechTarget {
  const timeoutMs = f.timeout * 1000;
  if (f.protocol === "tts-http") {
    let url: URL;
    if (sim) url = new URL(TTS_SIM_PATH, sim.origin);
    else {
      url = parseUrl(f.url as string, ["http:", "https:"], "http://host:8000/v1");
      if (/\/v1\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/$/, "")}/audio/speech`;
    }
    return {
      kind: "tts",
      stream: {
        url,
        model: f.model ?? "tts-1",
        voice: f.voice,
        input: f.ttsText ?? DEFAULT_TTS_TEXT,
        format: f.ttsFormat,
        sampleRate: sim ? sim.params.speech.tts.sampleRate : f.ttsSampleRate,
        apiKey,
        timeoutMs,
        maxRequestMs: f.maxRequestTime > 0 ? f.maxRequestTime * 1000 : undefined,
      },
    };
  }
  const protocol = STT_PROTOCOLS[f.adapter];
  if (f.reference !== undefined && f.referenceFile !== undefined)
    throw new UsageError("use only one of --reference and --reference-file");
  let reference =
    f.reference ?? (f.referenceFile && readFile(f.referenceFile, "--reference-file").toString("utf8"));
  let audio = toneUtterance(BUILTIN_WORDS);
  if (f.audio !== undefined) {
    try {
      audio = parseWav(readFile(f.audio, "--audio"));
    } catch (err) {
      if (err instanceof WavError) throw new UsageError(`--audio ${f.audio}: ${err.message}`);
      throw err;
    }
  } else if (sim) reference ??= scriptWords(BUILTIN_WORDS).join(" ");
  const url = sim
    ? new URL(STT_SIM_PATHS[f.adapter], sim.origin.replace(/^http/, "ws"))
    : parseUrl(f.url as string, ["ws:", "wss:"], "ws://host:2700/");
  const urlProblem = protocol.urlProblem?.(url);
  if (urlProblem) throw new UsageError(`--url: ${urlProblem}`);
  return {
    kind: "stt",
    stream: {
      url,
      protocol,
      samples: resample(audio, protocol.sampleRate).samples,
      frameMs: f.frameMs,
      apiKey,
      language: f.language,
      model: f.model,
      reference: reference || undefined,
      timeoutMs,
      finalIdleMs: f.finalIdleMs,
    },
  };
}

function parseUrl(text: string, schemes: string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url ${text} is not a URL; give one like ${example}`);
  }
  if (!schemes.includes(url.protocol))
    throw new UsageError(`--url ${text}: this protocol needs a ${schemes.join(" or ")} URL, like ${example}`);
  return url;
}

/** `streamslo bench --protocol stt-ws|tts-http`: speech streams at each load level. */
export async function speechBenchCommand(f: BenchFlags): Promise<number> {
  const levels = speechLevels(f);
  const targets = voiceTargets(f);
  const keyGiven = f.apiKey || process.env.OPENAI_API_KEY || undefined;
  const sim = f.url === undefined ? await startSimServer(simParamsFrom(f)) : undefined;
  let target: SpeechTarget;
  try {
    target = speechTarget(f, sim, sim ? (f.apiKey ?? sim.params.apiKey) : keyGiven);
  } catch (err) {
    await sim?.close();
    throw err;
  }
  const plan: SpeechPlan = {
    target,
    n: measuredPerLevel(f),
    durationS: f.duration,
    warmup: f.warmup,
    arrivals: { process: f.arrivals ?? "poisson", burstiness: f.burstiness, rampUpS: f.rampUp },
    maxConcurrency: f.maxConcurrency,
    seed: f.seed,
    targets,
    ttsBufferMs: f.ttsBufferMs,
  };
  const clock = new Clock();
  const id = runId(clock.wallStart, f.label ?? (sim ? `sim-${f.protocol}` : f.protocol));
  let dir: string;
  try {
    dir = makeRunFolder(f.out, id);
  } catch (err) {
    await sim?.close();
    throw err;
  }
  const url = redactUrlSecrets(redactSecret(target.stream.url.toString(), target.stream.apiKey));
  const info = {
    tool: { name: "streamslo", version: VERSION, node: process.version },
    kind: "speech",
    run_id: id,
    started_at: clock.wallStart.toISOString(),
    endpoint: {
      url,
      protocol: f.protocol,
      adapter: target.kind === "stt" ? f.adapter : undefined,
      simulator: sim ? sim.params.speech : undefined,
    },
    audio:
      target.kind === "stt"
        ? {
            file: f.audio ?? "built-in test utterance",
            duration_ms: durationMs({
              sampleRate: target.stream.protocol.sampleRate,
              samples: target.stream.samples,
            }),
            frame_ms: f.frameMs,
            reference: target.stream.reference !== undefined,
          }
        : { text_words: target.stream.input.split(/\s+/).length, format: target.stream.format },
    targets,
  };
  writeJson(join(dir, "run.json"), info);
  if (!f.quiet)
    process.stderr.write(
      `streamslo ${VERSION}: ${f.protocol}${target.kind === "stt" ? ` (${f.adapter})` : ""} against ${sim ? "the embedded simulator (no --url given)" : url}\n`,
    );
  const jsonl = new JsonlWriter(join(dir, "requests.jsonl"));
  const progress = new Progress(!f.quiet && !f.json);
  const interrupt = interruptSignal("closing streams and writing results");
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
  const results: SpeechLevelSummary[] = [];
  const runner = new SpeechRunner(
    plan,
    dispatcher,
    clock,
    {
      onLevelStart: (scenario, total) => progress.startLevel(scenario, total),
      onRecord: (rec) => {
        jsonl.write(rec);
        progress.tick(rec.outcome !== "ok" && rec.error?.code !== "aborted");
      },
      onLevelEnd: (s) => {
        results.push(s);
        progress.endLevel();
      },
    },
    interrupt.signal,
  );
  try {
    for (const level of levels) {
      if (runner.stopped) break;
      await runner.runLevel(level);
    }
  } finally {
    progress.stop();
    jsonl.close();
    await dispatcher.close().catch(() => undefined);
    await sim?.close();
  }
  const stop = runner.stopReason;
  const counts = results.map((r) => ({ ...r, errors_by_code: r.error_codes }));
  const targetsPass = results.every((l) => l.targets.every((t) => t.pass));
  const doc = {
    ...info,
    run_dir: dir,
    interrupted: stop?.kind === "interrupted",
    stop_reason: stop ?? null,
    warnings: failureWarnings(counts),
    targets_pass: targetsPass,
    levels: results,
  };
  writeJson(join(dir, "summary.json"), doc);
  writeFileSync(join(dir, "summary.csv"), `${speechCsv(results)}\n`);
  writeFileSync(
    join(dir, "summary.md"),
    `# streamslo speech run ${id}\n\n${speechMarkdownTable(results)}\n\n\`\`\`\n${speechTargetsText(results)}\n\`\`\`\n`,
  );
  // Only now: a second Ctrl-C while results are being written must not kill the process.
  interrupt.dispose();
  if (f.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else {
    process.stdout.write(`${speechTerminalTable(results)}\n\n${speechTargetsText(results)}\n`);
    for (const line of speechDetailLines(results)) process.stdout.write(`${line}\n`);
    process.stdout.write(`results in ${dir}\n`);
  }
  for (const w of levelsOverFailedShare(counts))
    process.stderr.write(`streamslo: warning: ${failedShareText(w)}\n`);
  if (stop?.kind === "fatal") {
    process.stderr.write(
      `streamslo: every stream failed with ${stop.error.code}: ${shownText(stop.error.message).replace(/\.$/, "")}. Check --url, --adapter and --api-key.\n`,
    );
    return EXIT.endpoint;
  }
  if (stop?.kind === "interrupted") return EXIT.interrupted;
  const fatal = fatalFailures(
    results.map((r) => ({ ok: r.ok, codes: r.error_codes })),
    isFatalSpeechCode,
  );
  if (fatal) {
    process.stderr.write(
      `streamslo: every stream failed (${fatal}). Check --url, --adapter and --api-key.\n`,
    );
    return EXIT.endpoint;
  }
  const empty = levelsWithoutSuccess(counts);
  if (empty.length > 0) {
    for (const e of empty) process.stderr.write(`streamslo: ${noSuccessText(e)}\n`);
    return EXIT.noSuccess;
  }
  if (f.gate && !targetsPass) {
    process.stderr.write("streamslo: a voice target failed (--gate)\n");
    return EXIT.sloFailed;
  }
  return EXIT.ok;
}
