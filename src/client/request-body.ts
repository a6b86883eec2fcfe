import type { RequestInput } from "../core/workload.js";
import type { Api } from "./endpoint.js";

export interface GenerationParams {
  api: Api;
  model: string;
  stream: boolean;
  /**
   * For requests that want an exact answer length, ask the server to ignore EOS (vLLM, SGLang and
   * llama.cpp `ignore_eos`, vLLM `min_tokens`). OpenAI itself rejects these fields.
   */
  ignoreEos: boolean;
  temperature?: number;
  /** Merged last, for server-specific fields (e.g. `{"cache_prompt": false}` for llama.cpp). */
  extraBody?: Record<string, unknown>;
}

/** The JSON body of one generation request. */
export function buildRequestBody(p: GenerationParams, input: RequestInput): string {
  const body: Record<string, unknown> = { model: p.model, max_tokens: input.maxTokens, stream: p.stream };
  if (input.messages) {
    // A session's history: the chat API takes it as messages; completions as one text, turn after turn.
    if (p.api === "chat") body.messages = input.messages;
    else body.prompt = input.messages.map((m) => m.content).join("\n\n");
  } else if (p.api === "chat") body.messages = [{ role: "user", content: input.prompt }];
  else body.prompt = input.prompt;
  // Usage on the stream gives exact token counts (OpenAI `stream_options.include_usage`).
  if (p.stream) body.stream_options = { include_usage: true };
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.ignoreEos && input.exact) {
    body.ignore_eos = true;
    body.min_tokens = input.maxTokens;
  }
  if (p.extraBody) Object.assign(body, p.extraBody);
  return JSON.stringify(body);
}
