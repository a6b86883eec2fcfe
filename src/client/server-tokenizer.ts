import { request } from "undici";
import { LEAD, type TokenCosts } from "../core/exact-prompt.js";
import { VOCABULARY } from "../core/synthetic-text.js";
import type { Endpoint } from "./endpoint.js";

/**
 * Measures what synthetic prompts cost in the endpoint's own tokenizer, through its /tokenize route,
 * once before the load. Two shapes are spoken: vLLM's and SGLang's (`{"model", "prompt"}` or
 * `{"model", "messages"}`, answering `count` and `tokens`) and llama.cpp's (`{"content"}`, answering
 * `tokens`, with the chat template from `/apply-template`). The routes are described in vLLM's
 * OpenAI-compatible server docs and llama.cpp's server README.
 */

type Shape = "vllm" | "llamacpp";

export class TokenizerUnavailable extends Error {}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
  const res = await request(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new TokenizerUnavailable(`POST ${url} answered HTTP ${res.statusCode}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TokenizerUnavailable(`POST ${url} did not answer JSON`);
  }
}

function countOf(answer: unknown): number {
  const a = answer as { count?: unknown; tokens?: unknown };
  if (typeof a.count === "number") return a.count;
  if (Array.isArray(a.tokens)) return a.tokens.length;
  throw new TokenizerUnavailable("/tokenize answered neither count nor tokens");
}

export async function serverTokenCosts(
  endpoint: Endpoint,
  model: string,
  apiKey?: string,
): Promise<TokenCosts> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const url = `${endpoint.origin}/tokenize`;
  const chat = endpoint.api === "chat";
  // Which shape: vLLM's first (it is SGLang's too), then llama.cpp's.
  let shape: Shape = "vllm";
  const plain = async (text: string) =>
    countOf(await post(url, shape === "vllm" ? { model, prompt: text } : { content: text }, headers));
  // A server may answer a shape it does not read (llama.cpp ignores "prompt"): four words must count more than one.
  const reads = async () => {
    try {
      return (await plain(`${LEAD} ${LEAD} ${LEAD} ${LEAD}`)) > (await plain(LEAD));
    } catch (err) {
      if (err instanceof TokenizerUnavailable) return false;
      throw err;
    }
  };
  if (!(await reads())) {
    shape = "llamacpp";
    if (!(await reads()))
      throw new TokenizerUnavailable(
        `${endpoint.origin} has no /tokenize that counts text in a shape streamslo speaks`,
      );
  }
  const base = await plain(LEAD);
  // llama.cpp adds the model's BOS token to what it generates from, which its /tokenize leaves out by default.
  let lead =
    shape === "vllm" ? base : countOf(await post(url, { content: LEAD, add_special: true }, headers));
  if (chat) {
    const messages = [{ role: "user", content: LEAD }];
    if (shape === "vllm") lead = countOf(await post(url, { model, messages }, headers));
    else {
      const templated = (await post(`${endpoint.origin}/apply-template`, { messages }, headers)) as {
        prompt?: unknown;
      };
      if (typeof templated.prompt !== "string")
        throw new TokenizerUnavailable("/apply-template answered no prompt");
      lead = countOf(await post(url, { content: templated.prompt, add_special: true }, headers));
    }
  }
  const perWord: Record<string, number> = {};
  // A few at a time: the pre-flight must not look like load.
  const words = [...VOCABULARY];
  for (let i = 0; i < words.length; i += 8) {
    await Promise.all(
      words.slice(i, i + 8).map(async (w) => {
        perWord[w] = (await plain(`${LEAD} ${w}`)) - base;
      }),
    );
  }
  return {
    lead,
    perWord,
    source: `the server's /tokenize (${shape === "vllm" ? "vLLM" : "llama.cpp"} shape)`,
  };
}
