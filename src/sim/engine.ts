import { performance } from "node:perf_hooks";
import { BLOCK_TOKENS, PrefixCache } from "./prefix-cache.js";

/** Cost model of a continuous-batching server (vLLM-like), all times in ms. */
export interface EngineParams {
  /** Sequences that can decode together (vLLM `max_num_seqs`). */
  maxRunning: number;
  /** KV-cache capacity in tokens; a sequence reserves prompt + output tokens on admission. */
  kvCacheTokens: number;
  /** Fixed cost of a step that prefills at least one new sequence. */
  prefillBaseMs: number;
  prefillMsPerToken: number;
  /** Fixed cost of every step, plus a cost per sequence in the batch. */
  decodeBaseMs: number;
  decodeMsPerSeq: number;
}

export interface Sequence {
  promptTokens: number;
  /** Tokens to generate before finishing. */
  outputTokens: number;
  /** Called at the end of the step that produced token `index` (0-based). */
  onToken(index: number, last: boolean): void;
  /** Called once when the sequence leaves the waiting queue. */
  onAdmit?(queueMs: number): void;
  /** The prompt's block hashes (prefix-cache.ts): blocks already cached skip their prefill. */
  prefixBlocks?: readonly number[];
}

interface Slot {
  seq: Sequence;
  arrivedMs: number;
  generated: number;
  cancelled: boolean;
  reserved: number;
}

/**
 * A discrete-step scheduler: each step admits waiting sequences while slots and KV cache allow,
 * prefills them and decodes every running sequence by one token. The step's duration grows with
 * the batch and the prefill work, so TTFT rises with queueing and TPOT with concurrency.
 */
export class BatchEngine {
  private readonly waiting: Slot[] = [];
  private readonly running: Slot[] = [];
  private kvUsed = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextStepAt = 0;

  /** Prompt blocks kept in the KV cache's free space between requests. */
  readonly prefixCache = new PrefixCache();

  constructor(private readonly p: EngineParams) {}

  get numRunning(): number {
    return this.running.length;
  }
  get numWaiting(): number {
    return this.waiting.length;
  }
  /** Fraction of the KV cache reserved, 0..1 (vLLM `kv_cache_usage_perc`). */
  get kvUsage(): number {
    return this.kvUsed / this.p.kvCacheTokens;
  }

  /** True when a sequence of this size could ever fit the KV cache. */
  fits(promptTokens: number, outputTokens: number): boolean {
    return promptTokens + outputTokens <= this.p.kvCacheTokens;
  }

  /** Queues a sequence; returns a function that cancels it (client went away). */
  submit(seq: Sequence): () => void {
    const slot: Slot = {
      seq,
      arrivedMs: performance.now(),
      generated: 0,
      cancelled: false,
      reserved: seq.promptTokens + seq.outputTokens,
    };
    this.waiting.push(slot);
    this.schedule();
    return () => {
      slot.cancelled = true;
    };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || (this.running.length === 0 && this.waiting.length === 0)) return;
    const now = performance.now();
    if (this.nextStepAt < now) this.nextStepAt = now;
    const prefillTokens = this.admit(now);
    const batch = this.running.length;
    let stepMs = this.p.decodeBaseMs + this.p.decodeMsPerSeq * batch;
    if (prefillTokens > 0) stepMs += this.p.prefillBaseMs + this.p.prefillMsPerToken * prefillTokens;
    // Absolute deadlines keep timer lateness from accumulating over a long stream.
    this.nextStepAt += stepMs;
    this.timer = setTimeout(() => this.finishStep(), Math.max(0, this.nextStepAt - performance.now()));
  }

  /** Moves waiting sequences into the batch; returns the prompt tokens to prefill. */
  private admit(now: number): number {
    let prefill = 0;
    while (this.waiting.length > 0 && this.running.length < this.p.maxRunning) {
      const head = this.waiting[0] as Slot;
      if (head.cancelled) {
        this.waiting.shift();
        continue;
      }
      if (this.kvUsed + head.reserved > this.p.kvCacheTokens) break; // KV cache full: admission blocks
      this.waiting.shift();
      this.kvUsed += head.reserved;
      this.running.push(head);
      // Cached blocks live in the space no running sequence holds: under pressure they are evicted.
      const free = Math.floor((this.p.kvCacheTokens - this.kvUsed) / BLOCK_TOKENS);
      const cached = head.seq.prefixBlocks
        ? this.prefixCache.admit(head.seq.prefixBlocks, head.seq.promptTokens, free)
        : 0;
      prefill += head.seq.promptTokens - cached;
      head.seq.onAdmit?.(now - head.arrivedMs);
    }
    return prefill;
  }

  private finishStep(): void {
    this.timer = undefined;
    let kept = 0;
    for (const slot of this.running) {
      if (!slot.cancelled) {
        const index = slot.generated++;
        const last = slot.generated >= slot.seq.outputTokens;
        slot.seq.onToken(index, last);
        if (!last && !slot.cancelled) {
          this.running[kept++] = slot;
          continue;
        }
      }
      this.kvUsed -= slot.reserved;
    }
    this.running.length = kept;
    this.schedule();
  }
}
