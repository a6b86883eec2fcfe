import type { RequestRecord } from "../core/record.js";
import type { ChatTurn, RequestInput } from "../core/workload.js";
import type { LoopIo } from "./load-loop.js";
import { sleepUntil } from "./pacing.js";

export interface SessionPlan {
  /** Sessions to run in all, and users running them at once (closed loop: a user starts its next session when one ends). */
  sessions: number;
  users: number;
  /** Turns of session `s`. */
  turns(session: number): number;
  /** The user's message of a turn, and the request's answer length. */
  turnInput(session: number, turn: number): Omit<RequestInput, "messages" | "session" | "turn">;
  /** How long the user thinks between an answer and the next turn, ms. */
  thinkMs(session: number, turn: number): number;
  /** Keep each answer's text in its record (an SLO checks it); else it is dropped once in the history. */
  keepText: boolean;
  /**
   * Open loop: session k starts at this offset (ms from the level's start, ascending), however many
   * are running; `users` is then unused. Undefined: `users` run sessions back to back.
   */
  arrivals?: Iterator<number>;
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  if (ms <= 0 || stop.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener("abort", done, { once: true });
  });
}

/**
 * Multi-turn sessions: each turn carries the whole conversation so far, with the answers the server
 * actually gave (so prefix caching and KV pressure decide TTFT as they do for real chats), and is sent
 * a think time after the answer before it. A turn that fails ends its session: its history is broken.
 */
export async function runSessionLoop(plan: SessionPlan, io: LoopIo<RequestRecord>): Promise<void> {
  const conversation = async (s: number) => {
    const history: ChatTurn[] = [];
    const turns = plan.turns(s);
    for (let t = 1; t <= turns && !io.stop.aborted; t++) {
      if (t > 1) await pause(plan.thinkMs(s, t), io.stop);
      if (io.stop.aborted) return;
      const input = plan.turnInput(s, t);
      history.push({ role: "user", content: input.prompt });
      const rec = await io.send("measure", undefined, io.stop, {
        ...input,
        messages: [...history],
        session: `s${s}`,
        turn: t,
        lastTurn: t === turns,
      });
      const answer = rec.text;
      if (!plan.keepText) delete rec.text;
      io.onRecord(rec);
      if (rec.outcome !== "ok") break;
      history.push({ role: "assistant", content: answer ?? "" });
    }
  };
  if (plan.arrivals) {
    const t0 = io.now();
    const running = new Set<Promise<void>>();
    for (let s = 0; s < plan.sessions && !io.stop.aborted; s++) {
      const at = t0 + (plan.arrivals.next().value as number);
      await sleepUntil(io.now, at, () => running.size === 0);
      if (io.stop.aborted) break;
      const p: Promise<void> = conversation(s).then(() => {
        running.delete(p);
      });
      running.add(p);
    }
    await Promise.all(running);
    return;
  }
  let next = 0;
  const user = async () => {
    while (!io.stop.aborted && next < plan.sessions) await conversation(next++);
  };
  await Promise.all(Array.from({ length: plan.users }, user));
}
