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

/** Words that make a query parameter's value a credential (`key`, `api-key`, `access_token`, `X-Amz-Signature`...). */
const SECRET_WORDS = new Set([
  ...["key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass"],
  ...["auth", "authorization", "sig", "signature", "credential", "credentials"],
]);

/** Whether a query parameter is named like a credential: by its words, so `max_tokens` is not one. */
function secretParam(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/**
 * Takes credentials out of every URL in a text: the user and password of `scheme://user:pass@host`
 * and the values of query parameters named like keys or tokens. Flags and error lines quote the
 * URL a user typed, and a key can ride in it; outputs keep the rest of the URL for context.
 */
export function redactUrlSecrets(text: string): string {
  return (
    text
      // Up to the last @ before the path: a password may hold an @ of its own.
      .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#"']*@/gi, `$1${REDACTED}@`)
      .replace(/([?&;#]([^\s=&#"']+)=)([^\s&#"']*)/g, (all, head: string, name: string, value: string) =>
        // Punctuation that ends the sentence around the URL stays.
        secretParam(name) ? `${head}${REDACTED}${/[:.,;)\]]*$/.exec(value)?.[0] ?? ""}` : all,
      )
  );
}
