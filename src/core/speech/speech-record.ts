import type { Outcome, Phase, RequestError } from "../record.js";
import type { WordErrors } from "./wer.js";

/** The STT protocol shapes streamslo speaks (see stt-protocols.ts for each one's assumptions). */
export type SttAdapterName = "vosk" | "whisperlive" | "deepgram";
export const STT_ADAPTERS: readonly SttAdapterName[] = ["vosk", "whisperlive", "deepgram"];

interface SpeechRecordBase {
  id: string;
  /** Load level, e.g. "c=4". */
  scenario: string;
  phase: Phase;
  intendedStartMs: number;
  /** Connection attempt (STT) or request sent (TTS). */
  startMs: number;
  outcome: Outcome;
  error?: RequestError;
  /** Verdict against the voice targets' per-stream criteria. */
  slo?: { good: boolean; missed: string[] };
}

/**
 * One speech-to-text stream as measured: raw timestamps only (ms, the run's monotonic clock).
 * Audio is sent like a microphone would: frame k leaves at firstAudioMs + k * frame length.
 */
export interface SttRecord extends SpeechRecordBase {
  kind: "stt";
  adapter: SttAdapterName;
  /** WebSocket handshake done. */
  openMs?: number;
  /** Server said it is ready for audio (protocols with a ready message), else = openMs. */
  readyMs?: number;
  /** First audio frame sent. */
  firstAudioMs?: number;
  /** Last audio frame sent: the end of the utterance; the end-of-audio message follows at once. */
  audioEndMs?: number;
  /** Audio duration sent, ms. */
  audioMs: number;
  /** Worst lateness of a frame against its real-time schedule, ms (the client's pacing error). */
  frameLagMaxMs: number;
  /** First result (partial or final) carrying text: the first words the user sees. */
  firstTextMs?: number;
  /** Arrival of each partial (interim) result whose text changed. */
  partialTimesMs: number[];
  /** Arrival of each final result. */
  finalTimesMs: number[];
  /** The final transcript complete: the last final result (or last result) after the end of audio. */
  endMs?: number;
  transcript?: string;
  /** Against --reference, when given and the stream completed. */
  wordErrors?: WordErrors;
}

/** One text-to-speech request with a streamed audio response. */
export interface TtsRecord extends SpeechRecordBase {
  kind: "tts";
  status?: number;
  headersMs?: number;
  /** First byte of audio (after any WAV header). */
  firstAudioMs?: number;
  /** Arrival time and size (bytes of audio) of each body chunk. */
  chunkTimesMs: number[];
  chunkBytes: number[];
  endMs?: number;
  audioBytes: number;
  /** Bytes of audio per second of playback (e.g. 48,000 for 24 kHz 16-bit mono). */
  bytesPerSecond: number;
}

export type SpeechRecord = SttRecord | TtsRecord;
