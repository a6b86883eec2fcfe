import type { StreamSummary } from "./stream-accumulator.js";

export const REDACTED = "[redacted]";

/** Shorter keys are left alone rather than blanking common words. */
const MIN_SECRET = 4;

/**
 * Replaces every occurrence of a secret (an API key) in text that came from a server: error
 * bodies and streams can echo the key back ("Incorrect API key provided: sk-..."), and records,
 * logs and reports must never carry it. With `cut`, the text is a truncated excerpt, and a
 * start of the key at its very end goes too, so a later, shorter cut cannot show a prefix.
 */
export function redactSecret(text: string, secret: string | undefined, cut = false): string {
  if (!secret || secret.length < MIN_SECRET) return text;
  let out = text.includes(secret) ? text.split(secret).join(REDACTED) : text;
  if (cut) {
    for (let k = Math.min(secret.length - 1, out.length); k >= MIN_SECRET; k--) {
      if (out.endsWith(secret.slice(0, k))) {
        out = out.slice(0, out.length - k) + REDACTED;
        break;
      }
    }
  }
  return out;
}

/** Takes the keys out of what a server said in a body, before any of it is cut short or stored. */
export function redactSummary(s: StreamSummary, secrets: readonly (string | undefined)[]): void {
  for (const secret of secrets) {
    s.head = redactSecret(s.head, secret, true);
    if (s.errorMessage !== undefined) s.errorMessage = redactSecret(s.errorMessage, secret);
    if (s.text !== undefined) s.text = redactSecret(s.text, secret);
  }
}
