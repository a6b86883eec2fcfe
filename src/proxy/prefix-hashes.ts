import { createHash } from "node:crypto";

/** Words per hashed block: Mooncake's 512-token block, as near as words come without the model's tokenizer. */
export const HASH_BLOCK_WORDS = 512;

/**
 * Opt-in (`proxy --log-prefix-hashes`): the prompt of a request as a chain of block hashes, so a replay
 * gives requests that shared a prefix in production a shared prefix again (the trace's `hash_ids`).
 * Each hash covers a block and every block before it, salted with a secret of this proxy process,
 * so equal prompts map to equal ids within one log while no text can be recovered or guessed from them.
 */
export function prefixHashes(body: Buffer, salt: string): number[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const b = parsed as { messages?: { content?: unknown }[]; prompt?: unknown };
  const text = Array.isArray(b.messages)
    ? b.messages.map((m) => (typeof m?.content === "string" ? m.content : "")).join("\n")
    : typeof b.prompt === "string"
      ? b.prompt
      : undefined;
  if (text === undefined) return undefined;
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const ids: number[] = [];
  let prev = salt;
  for (let i = 0; i < words.length; i += HASH_BLOCK_WORDS) {
    prev = createHash("sha256")
      .update(prev)
      .update(words.slice(i, i + HASH_BLOCK_WORDS).join(" "))
      .digest("hex");
    ids.push(Number.parseInt(prev.slice(0, 12), 16));
  }
  return ids;
}
