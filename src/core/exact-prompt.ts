import type { Rng } from "./rng.js";
import { VOCABULARY } from "./synthetic-text.js";

/**
 * What the endpoint's tokenizer says synthetic text costs: the tokens of a prompt made of the word
 * `LEAD` alone (chat template and special tokens included), and what each further word adds after a
 * space. Space-separated words tokenize independently in the BPE and SentencePiece tokenizers
 * served models use (both split text at spaces before merging), so a prompt "LEAD w1 w2 ..." costs
 * `lead + cost(w1) + cost(w2) + ...`, which lets a prompt be built to an exact length.
 */
export interface TokenCosts {
  /** The tokens of a prompt that is `LEAD` alone. */
  lead: number;
  /** Tokens each vocabulary word adds after a space. */
  perWord: Record<string, number>;
  /** Where the counts came from, e.g. "the server's /tokenize". */
  source: string;
}

/** Every exact prompt starts with this word, so its first word costs what was measured. */
export const LEAD = "the";

/**
 * A prompt of exactly `target` tokens by `costs` (or as near as the vocabulary allows, never over
 * unless even LEAD alone is): random words while they fit, then the cheapest words to fill the rest.
 */
export function exactPrompt(rng: Rng, target: number, costs: TokenCosts): string {
  const words = VOCABULARY.filter((w) => (costs.perWord[w] ?? 0) > 0);
  const cheapest = Math.min(...words.map((w) => costs.perWord[w] as number));
  const fillers = words.filter((w) => costs.perWord[w] === cheapest);
  const out = [LEAD];
  let left = target - costs.lead;
  while (left > 0 && words.length > 0) {
    const w = words[Math.floor(rng() * words.length)] as string;
    const c = costs.perWord[w] as number;
    if (c <= left) {
      out.push(w);
      left -= c;
    } else if (left < cheapest * 4) {
      // Close to the target: fill with the cheapest words only.
      if (cheapest > left) break;
      out.push(fillers[Math.floor(rng() * fillers.length)] as string);
      left -= cheapest;
    }
  }
  return out.join(" ");
}
