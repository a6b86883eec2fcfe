import type { Conversation } from "./dataset.js";
import { type LengthDistribution, sampleLength } from "./length-distribution.js";
import { createRng, deriveSeed } from "./rng.js";
import { syntheticText } from "./synthetic-text.js";
import type { RequestInput, Workload } from "./workload.js";

/**
 * Multi-turn sessions: each turn a new user message, synthetic (`turnTokens`) or a conversation's own
 * (`conversations`, session s playing conversation s, cycling), answers as the workload asks.
 */
export interface SyntheticSessions {
  turnTokens: LengthDistribution;
  /** Between an answer and the next turn, ms; undefined: none. */
  thinkMs?: LengthDistribution;
  conversations?: Conversation[];
  /** Turns per session: every synthetic session's, and the most a conversation plays. */
  turns: number;
}

/** How many turns session `s` has. */
export function turnsOf(s: SyntheticSessions, session: number): number {
  const c = s.conversations;
  return c ? Math.min(s.turns, (c[session % c.length] as Conversation).turns.length) : s.turns;
}

function rngOf(w: Workload, session: number, turn: number, stream: number) {
  return createRng(deriveSeed(deriveSeed(w.seed ^ 0x5e55, session), turn * 4 + stream));
}

/** The user's message of one turn and its answer length, reproducible from the seed alone. */
export function sessionTurn(
  w: Workload,
  s: SyntheticSessions,
  session: number,
  turn: number,
): Omit<RequestInput, "messages" | "session" | "turn"> {
  const rng = rngOf(w, session, turn, 0);
  const c = s.conversations;
  if (c) {
    const t = (c[session % c.length] as Conversation).turns[turn - 1];
    if (t) {
      if (w.output) return { prompt: t.user, maxTokens: sampleLength(w.output, rng), exact: true };
      if (t.outputTokens !== undefined) return { prompt: t.user, maxTokens: t.outputTokens, exact: true };
      return { prompt: t.user, maxTokens: w.maxTokens, exact: false };
    }
  }
  const prompt = syntheticText(rng, sampleLength(s.turnTokens, rng));
  if (w.output) return { prompt, maxTokens: sampleLength(w.output, rng), exact: true };
  return { prompt, maxTokens: w.maxTokens, exact: false };
}

/** The think time before a turn, ms (seeded per session and turn). */
export function thinkTime(w: Workload, s: SyntheticSessions, session: number, turn: number): number {
  return s.thinkMs ? sampleLength(s.thinkMs, rngOf(w, session, turn, 1)) : 0;
}
