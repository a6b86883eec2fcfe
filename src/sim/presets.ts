import type { EngineParams } from "./engine.js";
import { DEFAULT_SPEECH_SIM, type SpeechSimParams } from "./speech/speech-params.js";

/** Fault injection rates (0..1 per request) and their sizes. */
export interface FaultParams {
  /** Answer with HTTP 503 before any work. */
  http5xxRate: number;
  /** Close the connection mid-stream. */
  dropRate: number;
  /** Hold the stream for stallMs at one point. */
  stallRate: number;
  stallMs: number;
  /** Delay everything (headers included) by slowFirstByteMs. */
  slowFirstByteRate: number;
  slowFirstByteMs: number;
  /** Send `data: {"error": ...}` mid-stream and end. */
  inbandErrorRate: number;
}

export interface SimParams {
  model: string;
  seed: number;
  engine: EngineParams;
  faults: FaultParams;
  /** Tokens grouped into one SSE chunk (servers batch under load, e.g. vLLM's stream interval). */
  tokensPerChunk: number;
  /** max_tokens when the request gives none. */
  defaultMaxTokens: number;
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** The speech endpoints' cost model. */
  speech: SpeechSimParams;
}

export const NO_FAULTS: FaultParams = {
  http5xxRate: 0,
  dropRate: 0,
  stallRate: 0,
  stallMs: 500,
  slowFirstByteRate: 0,
  slowFirstByteMs: 300,
  inbandErrorRate: 0,
};

/**
 * Named cost models. `default` is shaped like a small model on one datacenter GPU (about 150
 * tokens/s per stream alone, 24 slots); `fast` keeps the same shape at a few ms per step for
 * tests and demos; `small-gpu` saturates early (8 slots, a small KV cache).
 */
export const PRESETS: Record<string, EngineParams> = {
  default: {
    maxRunning: 24,
    kvCacheTokens: 24_576,
    prefillBaseMs: 2,
    prefillMsPerToken: 0.02,
    decodeBaseMs: 6,
    decodeMsPerSeq: 0.35,
  },
  fast: {
    maxRunning: 24,
    kvCacheTokens: 24_576,
    prefillBaseMs: 0.5,
    prefillMsPerToken: 0.005,
    decodeBaseMs: 1,
    decodeMsPerSeq: 0.05,
  },
  "small-gpu": {
    maxRunning: 8,
    kvCacheTokens: 4_096,
    prefillBaseMs: 5,
    prefillMsPerToken: 0.1,
    decodeBaseMs: 12,
    decodeMsPerSeq: 1.5,
  },
};

export const DEFAULT_SIM_MODEL = "streamslo-sim";

export function simParams(preset = "default", overrides: Partial<SimParams> = {}): SimParams {
  const engine = PRESETS[preset];
  if (!engine)
    throw new Error(`unknown simulator preset "${preset}"; choose one of ${Object.keys(PRESETS).join(", ")}`);
  return {
    model: DEFAULT_SIM_MODEL,
    seed: 1,
    engine: { ...engine },
    faults: { ...NO_FAULTS },
    tokensPerChunk: 1,
    defaultMaxTokens: 128,
    speech: { stt: { ...DEFAULT_SPEECH_SIM.stt }, tts: { ...DEFAULT_SPEECH_SIM.tts } },
    ...overrides,
  };
}
