/**
 * Interprets one SSE `data:` payload of an OpenAI-compatible stream (chat or completions).
 * Reference: OpenAI API "streaming" docs (chat.completion.chunk, text_completion), vLLM's error
 * object `{"object":"error","message":...}` and llama.cpp's usage-on-finish-chunk behaviour.
 */

export interface ChunkInfo {
  kind: "data" | "done" | "error" | "invalid";
  /** Newly generated text in this chunk: content, reasoning or tool-call arguments. */
  text: string;
  /** Tokens this chunk carries when the server says so (logprobs entries); 0 = unknown. */
  tokens: number;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Reasoning tokens within completionTokens (usage.completion_tokens_details), streamed or not. */
  reasoningTokens?: number;
  /** The chunk's text includes reasoning (reasoning_content or reasoning). */
  reasoning?: true;
  errorMessage?: string;
  /** The chunk carries choices besides index 0 (a request with n > 1): the highest index seen. */
  otherChoice?: number;
}

const DONE: ChunkInfo = { kind: "done", text: "", tokens: 0 };

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function errorText(err: unknown): string {
  if (typeof err === "string") return err;
  if (isObject(err) && typeof err.message === "string") return err.message;
  return JSON.stringify(err);
}

/** The choice's generated text; marks `info.reasoning` when some of it is thinking. */
function choiceText(choice: Json, info: ChunkInfo): string {
  if (typeof choice.text === "string") return choice.text; // completions
  const delta = choice.delta;
  if (!isObject(delta)) return "";
  let text = "";
  if (typeof delta.content === "string") text = delta.content;
  // Reasoning models stream thinking tokens separately; they are generated tokens all the same.
  const thinking =
    typeof delta.reasoning_content === "string"
      ? delta.reasoning_content
      : typeof delta.reasoning === "string"
        ? delta.reasoning
        : "";
  if (thinking) {
    text += thinking;
    info.reasoning = true;
  }
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls) {
      if (isObject(call) && isObject(call.function)) {
        const fn = call.function;
        if (typeof fn.name === "string") text += fn.name;
        if (typeof fn.arguments === "string") text += fn.arguments;
      }
    }
  }
  return text;
}

function choiceTokens(choice: Json): number {
  const lp = choice.logprobs;
  if (!isObject(lp)) return 0;
  if (Array.isArray(lp.content)) return lp.content.length; // chat
  if (Array.isArray(lp.tokens)) return lp.tokens.length; // completions
  return 0;
}

function interpretObject(parsed: Json): ChunkInfo {
  if (parsed.error !== undefined && parsed.error !== null) {
    return { kind: "error", text: "", tokens: 0, errorMessage: errorText(parsed.error) };
  }
  if (parsed.object === "error") {
    return { kind: "error", text: "", tokens: 0, errorMessage: errorText(parsed) };
  }
  const info: ChunkInfo = { kind: "data", text: "", tokens: 0 };
  const choices = parsed.choices;
  if (Array.isArray(choices) && choices.length > 0) {
    // One choice is measured, index 0 (a choice without an index is the only one): with n > 1 a
    // server interleaves the choices' chunks, and merging them would double tokens and halve ITL.
    let choice: Json | undefined;
    let top = 0;
    for (const c of choices) {
      if (!isObject(c)) continue;
      if (c.index === undefined || c.index === 0) choice ??= c;
      else if (typeof c.index === "number" && c.index > top) top = c.index;
    }
    if (top > 0) info.otherChoice = top;
    if (choice) {
      info.text = choiceText(choice, info);
      info.tokens = choiceTokens(choice);
      if (typeof choice.finish_reason === "string") info.finishReason = choice.finish_reason;
      const message = choice.message; // non-streaming chat responses
      if (isObject(message) && typeof message.content === "string") info.text = message.content;
    }
  }
  const usage = parsed.usage;
  if (isObject(usage)) {
    if (typeof usage.prompt_tokens === "number") info.promptTokens = usage.prompt_tokens;
    if (typeof usage.completion_tokens === "number") info.completionTokens = usage.completion_tokens;
    const details = usage.completion_tokens_details;
    if (isObject(details) && typeof details.reasoning_tokens === "number")
      info.reasoningTokens = details.reasoning_tokens;
  }
  return info;
}

/** Interprets one SSE data payload, or a whole non-streaming response body. */
export function interpretChunk(data: string): ChunkInfo {
  return interpretPayload(data);
}

/** As interpretChunk; `onParsed` also gets the object of a well-formed chunk (see ChunkReader). */
export function interpretPayload(
  data: string,
  onParsed?: (data: string, object: Json, info: ChunkInfo) => void,
): ChunkInfo {
  const trimmed = data.trim();
  if (trimmed === "[DONE]") return DONE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { kind: "invalid", text: "", tokens: 0, errorMessage: `not JSON: ${trimmed.slice(0, 80)}` };
  }
  if (!isObject(parsed)) return { kind: "invalid", text: "", tokens: 0, errorMessage: "not a JSON object" };
  const info = interpretObject(parsed);
  onParsed?.(data, parsed, info);
  return info;
}
