/**
 * Whether the prompts a run sent are the length it meant to send. Synthetic prompts are sized by an
 * estimate of the tokenizer; a model whose tokenizer splits text differently (a small vocabulary, a
 * language it was not trained on) turns "--input-tokens 128" into 300-token prompts, and every TTFT
 * and prefill figure is then for prompts of another length. The server's usage says what it saw.
 */

/** How far the server's mean prompt may differ from the asked mean before the run says so. */
export const PROMPT_LENGTH_TOLERANCE = 0.1;

export function promptLengthWarning(
  scenario: string,
  askedMean: number,
  server: { mean: number; count: number },
): string | undefined {
  if (server.count === 0 || !Number.isFinite(server.mean) || askedMean <= 0) return undefined;
  const off = server.mean / askedMean - 1;
  if (Math.abs(off) <= PROMPT_LENGTH_TOLERANCE) return undefined;
  const sign = off > 0 ? "+" : "";
  return `${scenario}: prompts were meant to be about ${Math.round(askedMean)} tokens (--input-tokens), but the server counted ${Math.round(server.mean)} on average (${sign}${Math.round(100 * off)}%): its tokenizer is not the one the synthetic prompts assume, so the figures are for ${Math.round(server.mean)}-token prompts`;
}
