import { exactPrompt, type TokenCosts } from "./exact-prompt.js";
import { type LengthDistribution, sampleLength } from "./length-distribution.js";
import { createRng, deriveSeed } from "./rng.js";
import { syntheticText } from "./synthetic-text.js";

export const DEFAULT_PROMPT =
  "Write a short story about a lighthouse keeper who finds a message in a bottle. Describe the sea, " +
  "the weather and what the message says.";

/** One prompt from a dataset, with the answer length it calls for when the dataset says. */
export interface DatasetItem {
  prompt: string;
  outputTokens?: number;
}

export type PromptSource =
  | { kind: "fixed"; text: string }
  | {
      kind: "synthetic";
      input: LengthDistribution;
      /** A system prefix of `tokens` shared by every prompt of a group; requests take groups in turn. */
      prefix?: { tokens: number; groups: number };
      /** The endpoint's tokenizer's costs: prompts are built to exact lengths (without a prefix). */
      costs?: TokenCosts;
    }
  | { kind: "dataset"; items: DatasetItem[]; name: string };

/** What each request asks for: its prompt, and its answer length. */
export interface Workload {
  prompts: PromptSource;
  /** Exact answer lengths (sent with ignore_eos); undefined = let the model stop, up to maxTokens. */
  output?: LengthDistribution;
  maxTokens: number;
  seed: number;
}

/** One message of a conversation, as the chat API takes it. */
export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface RequestInput {
  prompt: string;
  maxTokens: number;
  /** True when the answer should be exactly maxTokens long. */
  exact: boolean;
  /** A multi-turn session's whole history, this turn's question last; `prompt` is then unused. */
  messages?: ChatTurn[];
  /** The session this request belongs to, and its turn (1-based). */
  session?: string;
  turn?: number;
  /** This turn ends its session. */
  lastTurn?: boolean;
}

/**
 * The input of request `index`, reproducible from the seed alone. Synthetic prompts differ per
 * request (a shared prefix would let prefix caching flatter TTFT); datasets cycle in their
 * (shuffled) order when the run is longer than the dataset.
 */
export function requestInput(w: Workload, index: number): RequestInput {
  const rng = createRng(deriveSeed(w.seed, index));
  let prompt: string;
  let fromData: number | undefined;
  switch (w.prompts.kind) {
    case "fixed":
      prompt = w.prompts.text;
      break;
    case "synthetic": {
      const n = sampleLength(w.prompts.input, rng);
      const shared = w.prompts.prefix;
      if (!shared) {
        prompt = w.prompts.costs ? exactPrompt(rng, n, w.prompts.costs) : syntheticText(rng, n);
        break;
      }
      // The group's prefix is seeded by the group alone, so its bytes are the same in every request of it.
      const group = index % shared.groups;
      const prefix = syntheticText(createRng(deriveSeed(w.seed ^ 0x9ef1, group)), shared.tokens);
      prompt = `${prefix} ${syntheticText(rng, Math.max(1, n - shared.tokens))}`;
      break;
    }
    case "dataset": {
      const items = w.prompts.items;
      const item = items[index % items.length] as DatasetItem;
      prompt = item.prompt;
      fromData = item.outputTokens;
    }
  }
  if (w.output) return { prompt, maxTokens: sampleLength(w.output, rng), exact: true };
  if (fromData !== undefined) return { prompt, maxTokens: fromData, exact: true };
  return { prompt, maxTokens: w.maxTokens, exact: false };
}

/** A dataset prompt source in a seeded shuffled order (Fisher-Yates). */
export function datasetSource(items: DatasetItem[], name: string, seed: number): PromptSource {
  const shuffled = [...items];
  const rng = createRng(deriveSeed(seed, 0x5eed));
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as DatasetItem, shuffled[i] as DatasetItem];
  }
  return { kind: "dataset", items: shuffled, name };
}
