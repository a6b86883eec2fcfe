const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const MODEL = [109, 111, 100, 101, 108]; // "model"

/**
 * The `model` of an OpenAI-style request body: the string value of its top-level "model" key (the
 * last one, as JSON.parse keeps), or undefined. For any valid JSON it reads what
 * `JSON.parse(body).model` would when that is a string; a body that is not JSON may still give
 * the model it names before going wrong, which only labels a request the upstream will refuse.
 *
 * Written by hand because a body is mostly prompt text that parsing in full would only throw
 * away, on the proxy's only thread: JSON.parse took 0.36 ms for a 256 KB prompt of prose and
 * 12 ms for 8 MB (the proxy's body limit). Each string is skipped here with Buffer.indexOf
 * (native), so the cost is in the number of strings and quotes, not in their length: 0.004 and
 * 0.27 ms for those bodies, and about a third of JSON.parse's time for code full of escaped quotes.
 */
export function requestModel(body: Buffer): string | undefined {
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return undefined;
  let depth = 0;
  let model: string | undefined;
  /** In the top-level object, the next string is a key. */
  let keyNext = false;
  for (; i < body.length; i++) {
    const c = body[i];
    if (c === QUOTE) {
      const end = stringEnd(body, i);
      if (end < 0) return undefined;
      if (depth === 1 && keyNext) {
        keyNext = false;
        if (isModelKey(body, i, end)) {
          const at = skipSpace(body, end + 1);
          if (body[at] !== COLON) return undefined;
          const value = skipSpace(body, at + 1);
          if (body[value] === QUOTE) {
            const valueEnd = stringEnd(body, value);
            if (valueEnd < 0) return undefined;
            model = stringAt(body, value, valueEnd);
            i = valueEnd;
          } else {
            // Not a string (a later "model" key may still be one): the loop walks the value.
            model = undefined;
            i = value - 1;
          }
          continue;
        }
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth === 1) keyNext = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return model;
    } else if (c === COMMA && depth === 1) {
      keyNext = true;
    }
  }
  return undefined; // the object never closed: not JSON
}

function skipSpace(b: Buffer, from: number): number {
  let i = from;
  while (b[i] === 32 || b[i] === 10 || b[i] === 13 || b[i] === 9) i++;
  return i;
}

/** Index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(b: Buffer, open: number): number {
  let q = b.indexOf(QUOTE, open + 1);
  while (q !== -1) {
    let backslashes = 0;
    while (b[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q; // an even run of backslashes escapes only itself
    q = b.indexOf(QUOTE, q + 1);
  }
  return -1;
}

function isModelKey(b: Buffer, open: number, end: number): boolean {
  // A key spelled with escapes ("\u006dodel") is the same key to JSON.parse.
  if (hasBackslash(b, open + 1, end)) return stringAt(b, open, end) === "model";
  if (end - open - 1 !== MODEL.length) return false;
  for (let k = 0; k < MODEL.length; k++) if (b[open + 1 + k] !== MODEL[k]) return false;
  return true;
}

/** Keys and model names are short: a loop, where indexOf would search the rest of the body. */
function hasBackslash(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (b[k] === BACKSLASH) return true;
  return false;
}

/** The JSON string between the quotes at `open` and `end`, unescaped; undefined if malformed. */
function stringAt(b: Buffer, open: number, end: number): string | undefined {
  if (!hasBackslash(b, open + 1, end)) return b.toString("utf8", open + 1, end);
  try {
    return JSON.parse(b.toString("utf8", open, end + 1)) as string;
  } catch {
    return undefined;
  }
}
