import type { Api } from "./endpoint.js";

export interface GenerationParams {
  api: Api;
  model: string;
  stream: boolean;
  maxTokens: number;
  /**
   * Ask the server to generate exactly maxTokens (vLLM/SGLang/llama.cpp `ignore_eos`, vLLM
   * `min_tokens`); OpenAI itself rejects these fields, so it is opt-in.
   */
  ignoreEos: boolean;
  temperature?: number;
  /** Merged last, for server-specific fields (e.g. `{"cache_prompt": false}` for llama.cpp). */
  extraBody?: Record<string, unknown>;
}

/** The JSON body of one generation request. */
export function buildRequestBody(p: GenerationParams, prompt: string): string {
  const body: Record<string, unknown> = { model: p.model, max_tokens: p.maxTokens, stream: p.stream };
  if (p.api === "chat") body.messages = [{ role: "user", content: prompt }];
  else body.prompt = prompt;
  // Usage on the stream gives exact token counts (OpenAI `stream_options.include_usage`).
  if (p.stream) body.stream_options = { include_usage: true };
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.ignoreEos) {
    body.ignore_eos = true;
    body.min_tokens = p.maxTokens;
  }
  if (p.extraBody) Object.assign(body, p.extraBody);
  return JSON.stringify(body);
}
