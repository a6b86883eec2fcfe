import { type Command, Option } from "commander";
import { PRESETS, type SimParams, simParams } from "../sim/presets.js";
import { nonEmpty, nonNegativeInt, nonNegativeNumber, positiveInt, probability } from "./option-parsers.js";

export interface SimFlags {
  simPreset: string;
  simSeed: number;
  simModel?: string;
  simApiKey?: string;
  simSlots?: number;
  simKvTokens?: number;
  simDecodeMs?: number;
  simDecodeMsPerSeq?: number;
  simTokensPerChunk?: number;
  fault5xx: number;
  faultDrop: number;
  faultStall: number;
  stallMs: number;
  faultSlowFirstByte: number;
  slowFirstByteMs: number;
  faultInbandError: number;
  simRtf?: number;
  simRtfPerStream?: number;
  simSttWer?: number;
  simSttPartialMs?: number;
  simSttFinalMs?: number;
}

/** Adds the simulator's flags (used by `sim`, and by `bench`/`probe` when no --url is given). */
export function addSimOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--sim-preset <name>", "simulator cost model")
        .choices(Object.keys(PRESETS))
        .default("default"),
    )
    .option("--sim-seed <n>", "simulator random seed", nonNegativeInt, 1)
    .option("--sim-model <name>", "model name the simulator serves", nonEmpty)
    .option("--sim-api-key <key>", "make the simulator require this bearer token")
    .option("--sim-slots <n>", "concurrent sequences the simulator batches", positiveInt)
    .option("--sim-kv-tokens <n>", "simulator KV-cache capacity in tokens", positiveInt)
    .option("--sim-decode-ms <ms>", "fixed cost of one decode step", nonNegativeNumber)
    .option("--sim-decode-ms-per-seq <ms>", "added cost per sequence in the batch", nonNegativeNumber)
    .option(
      "--sim-tokens-per-chunk <n>",
      "tokens grouped into one SSE chunk after the first, which goes alone (as vLLM's --stream-interval)",
      positiveInt,
    )
    .option("--fault-5xx <rate>", "share of requests answered with HTTP 503", probability, 0)
    .option("--fault-drop <rate>", "share of streams cut mid-way", probability, 0)
    .option("--fault-stall <rate>", "share of streams that pause for --stall-ms", probability, 0)
    .option("--stall-ms <ms>", "length of an injected stall", nonNegativeNumber, 500)
    .option(
      "--fault-slow-first-byte <rate>",
      "share of requests delayed by --slow-first-byte-ms",
      probability,
      0,
    )
    .option("--slow-first-byte-ms <ms>", "delay before the first byte", nonNegativeNumber, 300)
    .option(
      "--fault-inband-error <rate>",
      'share of streams that end with data: {"error": ...}',
      probability,
      0,
    )
    .option("--sim-rtf <x>", "speech real-time factor (STT and TTS) with one stream", nonNegativeNumber)
    .option("--sim-rtf-per-stream <x>", "speech RTF added per extra concurrent stream", nonNegativeNumber)
    .option("--sim-stt-wer <share>", "share of words the simulated recogniser gets wrong", probability)
    .option("--sim-stt-partial-ms <ms>", "a partial STT result after every this much audio", positiveInt)
    .option(
      "--sim-stt-final-ms <ms>",
      "fixed cost of the final decode, before RTF x audio",
      nonNegativeNumber,
    );
}

export function simParamsFrom(f: SimFlags): SimParams {
  const p = simParams(f.simPreset, { seed: f.simSeed });
  if (f.simModel) p.model = f.simModel;
  if (f.simApiKey) p.apiKey = f.simApiKey;
  if (f.simSlots !== undefined) p.engine.maxRunning = f.simSlots;
  if (f.simKvTokens !== undefined) p.engine.kvCacheTokens = f.simKvTokens;
  if (f.simDecodeMs !== undefined) p.engine.decodeBaseMs = f.simDecodeMs;
  if (f.simDecodeMsPerSeq !== undefined) p.engine.decodeMsPerSeq = f.simDecodeMsPerSeq;
  if (f.simTokensPerChunk !== undefined) p.tokensPerChunk = f.simTokensPerChunk;
  p.faults = {
    http5xxRate: f.fault5xx,
    dropRate: f.faultDrop,
    stallRate: f.faultStall,
    stallMs: f.stallMs,
    slowFirstByteRate: f.faultSlowFirstByte,
    slowFirstByteMs: f.slowFirstByteMs,
    inbandErrorRate: f.faultInbandError,
  };
  for (const s of [p.speech.stt, p.speech.tts]) {
    if (f.simRtf !== undefined) s.baseRtf = f.simRtf;
    if (f.simRtfPerStream !== undefined) s.rtfPerStream = f.simRtfPerStream;
  }
  if (f.simSttWer !== undefined) p.speech.stt.wordErrorRate = f.simSttWer;
  if (f.simSttPartialMs !== undefined) p.speech.stt.partialEveryMs = f.simSttPartialMs;
  if (f.simSttFinalMs !== undefined) p.speech.stt.finalBaseMs = f.simSttFinalMs;
  return p;
}
