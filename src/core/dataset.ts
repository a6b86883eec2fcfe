import type { DatasetItem } from "./workload.js";

export class DatasetError extends Error {}

/** Output length of a reference answer without a tokenizer: about four characters per token. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Parses a JSONL prompt file: one object per line with `prompt` (or chat `messages`, whose last
 * user message is the prompt) and optional `output_tokens` (or `max_tokens`).
 */
/** Each non-blank line of a JSONL file, parsed, with its index; a line that is not JSON is named. */
function jsonLines(text: string, name: string, onRow: (row: unknown, i: number) => void): void {
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new DatasetError(`${name} line ${i + 1} is not JSON`);
    }
    onRow(row, i);
  });
}

export function parseJsonlDataset(text: string, name: string): DatasetItem[] {
  const items: DatasetItem[] = [];
  jsonLines(text, name, (row, i) => {
    const r = row as { prompt?: unknown; messages?: unknown; output_tokens?: unknown; max_tokens?: unknown };
    let prompt: string | undefined;
    if (typeof r.prompt === "string") prompt = r.prompt;
    else if (Array.isArray(r.messages)) {
      const users = r.messages.filter((m) => (m as { role?: string }).role === "user");
      const last = users[users.length - 1] as { content?: unknown } | undefined;
      if (typeof last?.content === "string") prompt = last.content;
    }
    if (!prompt) throw new DatasetError(`${name} line ${i + 1} has no "prompt" string (or user message)`);
    const out = r.output_tokens ?? r.max_tokens;
    if (out !== undefined && (typeof out !== "number" || !Number.isInteger(out) || out < 1)) {
      throw new DatasetError(`${name} line ${i + 1}: "output_tokens" must be a whole number of at least 1`);
    }
    items.push(out === undefined ? { prompt } : { prompt, outputTokens: out as number });
  });
  if (items.length === 0) throw new DatasetError(`${name} has no prompts`);
  return items;
}

/**
 * Parses ShareGPT JSON (an array of `{conversations: [{from: "human"|"gpt", value}]}`): the first
 * human turn is the prompt and the reply that follows sets the answer length, as vLLM's benchmark
 * does (which counts it with the model's tokenizer; streamslo estimates it, see estimateTokens).
 */
export function parseShareGpt(text: string, name: string): DatasetItem[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new DatasetError(`${name} is not JSON; ShareGPT files are one JSON array`);
  }
  if (!Array.isArray(data)) throw new DatasetError(`${name} is not a JSON array of conversations`);
  const items: DatasetItem[] = [];
  for (const conv of data) {
    const turns = (conv as { conversations?: unknown }).conversations;
    if (!Array.isArray(turns) || turns.length < 2) continue;
    const [ask, answer] = turns as { from?: string; value?: unknown }[];
    if (ask?.from !== "human" || typeof ask.value !== "string" || typeof answer?.value !== "string") continue;
    if (ask.value.trim() === "") continue;
    items.push({ prompt: ask.value, outputTokens: estimateTokens(answer.value) });
  }
  if (items.length === 0)
    throw new DatasetError(`${name} has no conversation that starts with a human turn and a reply`);
  return items;
}

/** A conversation for multi-turn sessions: its user turns, each with the answer length its reply had. */
export interface Conversation {
  turns: { user: string; outputTokens?: number }[];
}

function turnsOf(messages: { role: string; content: string }[]): Conversation["turns"] {
  const turns: Conversation["turns"] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as { role: string; content: string };
    if (m.role !== "user" || m.content.trim() === "") continue;
    const reply = messages[i + 1];
    turns.push(
      reply?.role === "assistant"
        ? { user: m.content, outputTokens: estimateTokens(reply.content) }
        : { user: m.content },
    );
  }
  return turns;
}

/**
 * Conversations for `--sessions --dataset`: ShareGPT (`human`/`gpt` turns) or JSONL lines of OpenAI
 * `messages`. Each user turn is sent in turn; the reply that followed it in the data sets its answer
 * length (estimated, see estimateTokens), and the server's own answer goes into the history.
 */
export function parseConversations(text: string, name: string, format: "jsonl" | "sharegpt"): Conversation[] {
  const out: Conversation[] = [];
  const add = (messages: { role: string; content: string }[]) => {
    const turns = turnsOf(messages);
    if (turns.length > 0) out.push({ turns });
  };
  if (format === "jsonl") {
    jsonLines(text, name, (row, i) => {
      const m = (row as { messages?: unknown }).messages;
      if (!Array.isArray(m)) throw new DatasetError(`${name} line ${i + 1} has no "messages" list`);
      add(
        m.filter((x) => typeof (x as { content?: unknown }).content === "string") as {
          role: string;
          content: string;
        }[],
      );
    });
  } else {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new DatasetError(`${name} is not JSON; ShareGPT files are one JSON array`);
    }
    if (!Array.isArray(data)) throw new DatasetError(`${name} is not a JSON array of conversations`);
    for (const conv of data) {
      const turns = (conv as { conversations?: unknown }).conversations;
      if (!Array.isArray(turns)) continue;
      add(
        (turns as { from?: string; value?: unknown }[])
          .filter((t) => typeof t.value === "string")
          .map((t) => ({
            role: t.from === "human" ? "user" : t.from === "gpt" ? "assistant" : "other",
            content: t.value as string,
          })),
      );
    }
  }
  if (out.length === 0) throw new DatasetError(`${name} has no conversation with a user turn`);
  return out;
}
