import type { RequestRecord } from "./record.js";
import { forEachTokenGap } from "./token-times.js";

export interface PlaybackModel {
  /** Content buffered before playback starts, in ms of playback. */
  bufferMs: number;
  /** Tokens shown (or spoken) per second once playing. */
  tokensPerSecond: number;
}

export interface PlaybackResult {
  /** When the user starts seeing output: playback start - request sent. */
  perceivedTtftMs: number;
  /** Times playback ran dry and waited for the next token. */
  stalls: number;
  stallMs: number;
  longestStallMs: number;
}

/**
 * A client that buffers `bufferMs` worth of tokens, then plays them at a steady rate: playback
 * starts once enough tokens arrived (or the stream ended), each token plays one interval after the
 * previous one or when it arrives, whichever is later; arriving later is a stall (underrun).
 */
export function playback(r: RequestRecord, m: PlaybackModel): PlaybackResult | undefined {
  if (r.chunkTimesMs.length === 0) return undefined;
  const interval = 1000 / m.tokensPerSecond;
  const arrivals: number[] = [];
  let t = r.startMs;
  forEachTokenGap(r, (gap) => {
    t += gap;
    arrivals.push(t);
  });
  const needed = Math.max(1, Math.ceil(m.bufferMs / interval));
  const start = arrivals[Math.min(needed, arrivals.length) - 1] as number;
  const res: PlaybackResult = {
    perceivedTtftMs: start - r.startMs,
    stalls: 0,
    stallMs: 0,
    longestStallMs: 0,
  };
  let playedAt = start;
  for (let i = 1; i < arrivals.length; i++) {
    const due = playedAt + interval;
    const arrived = arrivals[i] as number;
    if (arrived > due) {
      const stall = arrived - due;
      res.stalls++;
      res.stallMs += stall;
      if (stall > res.longestStallMs) res.longestStallMs = stall;
      playedAt = arrived;
    } else {
      playedAt = due;
    }
  }
  return res;
}
