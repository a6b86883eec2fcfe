/**
 * Voice-AI service levels (the targets a conversational voice product is commonly held to): first
 * words within 300 ms, the final transcript of a ~3 s utterance within 800 ms at p95, a real-time
 * factor under 0.5 (headroom to keep up with speech), and fewer than 0.1% dropped connections.
 */
export interface VoiceTargets {
  /** STT: first partial result, ms after the first audio (p95 and per stream). */
  firstPartialMs: number;
  /** STT: final transcript, ms after the end of audio (p95 and per stream). */
  finalMs: number;
  /** STT: real-time factor, strictly below (p95 and per stream). */
  rtf: number;
  /** TTS: first audio byte, ms after the request (p95 and per stream). */
  firstAudioMs: number;
  /** Share of streams that broke or failed, strictly below. */
  dropRate: number;
}

export const VOICE_TARGETS: VoiceTargets = {
  firstPartialMs: 300,
  finalMs: 800,
  rtf: 0.5,
  firstAudioMs: 300,
  dropRate: 0.001,
};

export interface TargetResult {
  /** e.g. "final p(95) <= 800ms". */
  target: string;
  observed: number | null;
  pass: boolean;
}
