import type { RequestRecord } from "./record.js";
import { forEachTokenGap } from "./token-times.js";

export interface FluidityDeadlines {
  /** Deadline for the first token (Metron's predicted prefill time plus scheduling slack). */
  ttftMs: number;
  /** Deadline between consecutive tokens (TBT). */
  tbtMs: number;
}

/**
 * Metron's fluidity-index for one request: the share of token deadlines met. Each token has a
 * deadline (ttftMs for the first, tbtMs after that); a token that beats its deadline banks the
 * difference as slack for later tokens; a late one counts every deadline its stall spanned as
 * missed, and the schedule restarts from it with no slack.
 * Reference: Agrawal et al., "Metron: Holistic Performance Evaluation Framework for LLM Inference
 * Systems" (arXiv 2407.07000), Algorithm 1.
 */
export function fluidityIndex(r: RequestRecord, d: FluidityDeadlines): number | undefined {
  if (r.chunkTimesMs.length === 0) return undefined;
  let slack = 0;
  let total = 0;
  let missed = 0;
  forEachTokenGap(r, (gap, i) => {
    const deadline = i === 0 ? d.ttftMs : d.tbtMs;
    if (gap <= deadline + slack) {
      slack += deadline - gap;
      total += 1;
    } else {
      const misses = Math.floor((gap - slack - deadline) / d.tbtMs) + 1;
      missed += misses;
      total += misses;
      slack = 0;
    }
  });
  return 1 - missed / total;
}
