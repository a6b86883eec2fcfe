import type { SttRecord, TtsRecord } from "./speech-record.js";

/** Per-stream speech SLIs, derived from a record's raw timestamps (definitions in the README). */
export interface SttMetrics {
  /** Handshake (and ready message, where the protocol has one). */
  setupMs?: number;
  /** First partial (or final) result with text - first audio frame sent. */
  firstPartialMs?: number;
  /** Gaps between consecutive results (partials and finals), ms. */
  partialGapsMs: number[];
  /** Final transcript - end of audio; 0 when it was complete before the audio ended. */
  finalMs?: number;
  /**
   * Real-time factor seen by the client: final latency / audio duration. For a server that
   * decodes the utterance after it ends (Whisper-style) this is its processing time / audio
   * duration; either way, 1.0 means it can no longer keep up with speech.
   */
  rtf?: number;
  wer?: number;
}

export function sttMetrics(r: SttRecord): SttMetrics {
  const m: SttMetrics = { partialGapsMs: [] };
  const setupEnd = r.readyMs ?? r.openMs;
  if (setupEnd !== undefined) m.setupMs = setupEnd - r.startMs;
  const results = mergeSorted(r.partialTimesMs, r.finalTimesMs);
  if (r.firstAudioMs !== undefined && r.firstTextMs !== undefined) {
    m.firstPartialMs = Math.max(0, r.firstTextMs - r.firstAudioMs);
  }
  for (let i = 1; i < results.length; i++)
    m.partialGapsMs.push((results[i] as number) - (results[i - 1] as number));
  if (r.outcome === "ok" && r.audioEndMs !== undefined && r.endMs !== undefined) {
    m.finalMs = Math.max(0, r.endMs - r.audioEndMs);
    if (r.audioMs > 0) m.rtf = m.finalMs / r.audioMs;
  }
  if (r.wordErrors && r.wordErrors.referenceWords > 0)
    m.wer = r.wordErrors.errors / r.wordErrors.referenceWords;
  return m;
}

function mergeSorted(a: number[], b: number[]): number[] {
  return [...a, ...b].sort((x, y) => x - y);
}

export interface TtsMetrics {
  /** First audio byte - request sent. */
  firstAudioMs?: number;
  /** Audio seconds received per second of streaming; below 1.0 playback must stall. */
  realtimeRatio?: number;
  stalls: number;
  stallMs: number;
  audioMs: number;
}

/**
 * TTS as a listener hears it: playback starts once `bufferMs` of audio is in (or the stream ends),
 * then runs at real time; each time the next bytes are not there yet is a stall.
 */
export function ttsMetrics(r: TtsRecord, bufferMs: number): TtsMetrics {
  const audioMs = r.bytesPerSecond > 0 ? (1000 * r.audioBytes) / r.bytesPerSecond : 0;
  const m: TtsMetrics = { stalls: 0, stallMs: 0, audioMs };
  if (r.firstAudioMs === undefined) return m;
  m.firstAudioMs = r.firstAudioMs - r.startMs;
  const last = r.chunkTimesMs[r.chunkTimesMs.length - 1];
  if (last !== undefined && last > r.firstAudioMs) m.realtimeRatio = audioMs / (last - r.firstAudioMs);
  // Playback clock: ms of audio buffered ahead of the playhead.
  const msPerByte = 1000 / r.bytesPerSecond;
  let received = 0;
  let playStart: number | undefined;
  let playhead = 0; // ms of audio already played when `clock` was reached
  let clock = 0;
  for (let i = 0; i < r.chunkTimesMs.length; i++) {
    const t = r.chunkTimesMs[i] as number;
    const add = (r.chunkBytes[i] as number) * msPerByte;
    if (playStart === undefined) {
      received += add;
      if (received >= bufferMs) {
        playStart = t;
        clock = t;
      }
      continue;
    }
    // Play from `clock` to `t`: the buffer may run dry first.
    const ahead = received - playhead;
    const elapsed = t - clock;
    if (elapsed > ahead) {
      m.stalls++;
      m.stallMs += elapsed - ahead;
      playhead = received;
    } else {
      playhead += elapsed;
    }
    clock = t;
    received += add;
  }
  return m;
}
