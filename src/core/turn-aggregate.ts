import { Distribution, type Stats } from "./histogram.js";
import type { RequestRecord } from "./record.js";
import { requestMetrics } from "./request-metrics.js";

/** A turn index's figures: turn 1 against later turns is what prefix caching does for a conversation. */
export interface TurnSummary {
  turn: number;
  n: number;
  ok: number;
  ttft_ms: Stats;
  e2e_ms: Stats;
  /** Prompt tokens as the server counted them: each turn resends the history, so this grows by turn. */
  input_tokens: Stats;
}

export interface SessionsSummary {
  /** Sessions whose every turn ended ok. */
  completed: number;
  /** Sessions that ended at a failed turn. */
  broken: number;
  /** First turn's send to last turn's end, for completed sessions, in seconds. */
  duration_s: Stats;
  by_turn: TurnSummary[];
}

interface TurnCells {
  n: number;
  ok: number;
  ttft: Distribution;
  e2e: Distribution;
  input: Distribution;
}

/**
 * Figures of a multi-turn run by turn index and by session. Memory stays bounded: one set of
 * distributions per turn index, and only sessions still open are held.
 */
export class TurnAggregate {
  private readonly turns = new Map<number, TurnCells>();
  private readonly open = new Map<string, number>();
  private readonly durations = new Distribution();
  private completed = 0;
  private broken = 0;

  add(r: RequestRecord): void {
    if (r.session === undefined || r.turn === undefined || r.outcome === "aborted") return;
    let c = this.turns.get(r.turn);
    if (!c) {
      c = { n: 0, ok: 0, ttft: new Distribution(), e2e: new Distribution(), input: new Distribution() };
      this.turns.set(r.turn, c);
    }
    c.n++;
    if (r.turn === 1) this.open.set(r.session, r.startMs);
    if (r.outcome !== "ok") {
      this.broken++;
      this.open.delete(r.session);
      return;
    }
    c.ok++;
    const m = requestMetrics(r);
    if (m.ttftMs !== undefined) c.ttft.record(m.ttftMs);
    if (m.e2eMs !== undefined) c.e2e.record(m.e2eMs);
    if (r.promptTokens !== undefined) c.input.record(r.promptTokens);
    if (r.lastTurn) {
      const start = this.open.get(r.session);
      if (start !== undefined) this.durations.record(((r.endMs ?? r.startMs) - start) / 1000);
      this.open.delete(r.session);
      this.completed++;
    }
  }

  summary(): SessionsSummary {
    return {
      completed: this.completed,
      broken: this.broken,
      duration_s: this.durations.stats(),
      by_turn: [...this.turns.entries()]
        .sort(([a], [b]) => a - b)
        .map(([turn, c]) => ({
          turn,
          n: c.n,
          ok: c.ok,
          ttft_ms: c.ttft.stats(),
          e2e_ms: c.e2e.stats(),
          input_tokens: c.input.stats(true),
        })),
    };
  }
}
