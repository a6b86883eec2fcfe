/**
 * Word error rate: (substitutions + deletions + insertions) / reference words, from the standard
 * Levenshtein alignment over words, after normalising both texts the same way.
 */

/**
 * Lower case, punctuation dropped (apostrophes inside words kept, so "don't" is one word and not
 * "dont"), whitespace collapsed. Typographic apostrophes (’ ʼ ′) count as ASCII ones: a reference
 * pasted from a document must not score a perfect transcript as wrong.
 */
export function normaliseWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize("NFKC")
    .replace(/[\u2018\u2019\u02bc\u2032]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, " ")
    .replace(/(^|\s)'+|'+(?=\s|$)/g, " ")
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

export interface WordErrors {
  /** Edits needed to turn the reference into the hypothesis. */
  errors: number;
  referenceWords: number;
}

export function wordErrors(reference: string, hypothesis: string): WordErrors {
  const ref = normaliseWords(reference);
  const hyp = normaliseWords(hypothesis);
  // One row of the edit-distance table at a time: memory linear in the hypothesis length.
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const sub = (prev[j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      row.push(Math.min(sub, (prev[j] as number) + 1, (row[j - 1] as number) + 1));
    }
    prev = row;
  }
  return { errors: prev[hyp.length] as number, referenceWords: ref.length };
}

/** WER of one pair; NaN when the reference has no words. */
export function wer(reference: string, hypothesis: string): number {
  const e = wordErrors(reference, hypothesis);
  return e.referenceWords === 0 ? Number.NaN : e.errors / e.referenceWords;
}
