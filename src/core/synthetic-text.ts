import type { Rng } from "./rng.js";

/** Short common words: each is one token for typical BPE tokenizers, which keeps counts honest. */
const WORDS = (
  "the a of and to in is was that for it on as with he she they at by this had from or but not " +
  "are all were we when your can said there use an each which do how their if will up other about " +
  "out many then them these so some her would make like him into time has look two more write go see " +
  "number no way could people my than first water been call who oil its now find long down day did get " +
  "come made may part over new sound take only little work know place year live me back give most very"
).split(" ");

/** The words synthetic text is made of. */
export const VOCABULARY: readonly string[] = WORDS;

export function word(rng: Rng): string {
  return WORDS[Math.floor(rng() * WORDS.length)] as string;
}

/** A prompt of `n` words, usually n tokens. */
export function syntheticText(rng: Rng, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(word(rng));
  return out.join(" ");
}

/** The simulator's token count for a text: its words (the simulator has no real tokenizer). */
export function countTokens(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 32;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
