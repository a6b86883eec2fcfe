import { createRng, deriveSeed } from "./rng.js";
import { syntheticText } from "./synthetic-text.js";

export const DEFAULT_PROMPT =
  "Write a short story about a lighthouse keeper who finds a message in a bottle. Describe the sea, " +
  "the weather and what the message says.";

export type PromptSpec =
  | { kind: "fixed"; text: string }
  | { kind: "synthetic"; inputTokens: number; seed: number };

/**
 * The prompt of request `index`. Synthetic prompts differ per request (a shared prefix would let
 * prefix caching flatter TTFT) yet are reproducible from the seed.
 */
export function promptFor(spec: PromptSpec, index: number): string {
  if (spec.kind === "fixed") return spec.text;
  return syntheticText(createRng(deriveSeed(spec.seed, index)), spec.inputTokens);
}
