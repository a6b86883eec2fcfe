import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { LEAD, type TokenCosts } from "../core/exact-prompt.js";
import { VOCABULARY } from "../core/synthetic-text.js";
import type { Api } from "./endpoint.js";
import { TokenizerUnavailable } from "./server-tokenizer.js";

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TokenizerUnavailable(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new TokenizerUnavailable(`${path} is not JSON`);
  }
}

/** The chat template of a tokenizer_config.json: a string, or the one named "default" of a list. */
function chatTemplate(config: Record<string, unknown>): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as { name?: string; template?: string }[];
    return (named.find((x) => x.name === "default") ?? named[0])?.template;
  }
  return undefined;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return undefined;
}

/**
 * The model's own tokenizer, read offline from a Hugging Face `tokenizer.json` (with the
 * `tokenizer_config.json` beside it, for its chat template and special tokens), through Hugging
 * Face's tokenizers.js and jinja libraries: what synthetic prompts cost, as serverTokenCosts gives.
 */
export function fileTokenCosts(path: string, api: Api): TokenCosts {
  const json = readJson(path);
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? readJson(configPath) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json as never, config as never);
  } catch (err) {
    throw new TokenizerUnavailable(
      `${path} is not a tokenizer.json tokenizers.js reads (${(err as Error).message})`,
    );
  }
  const count = (text: string, special = true) =>
    tokenizer.encode(text, { add_special_tokens: special } as never).ids.length;
  const base = count(LEAD, false);
  let lead = count(LEAD);
  if (api === "chat") {
    const source = chatTemplate(config);
    if (!source)
      throw new TokenizerUnavailable(
        `${configPath} has no chat_template, which the chat API applies; use --api completions or --tokenizer server`,
      );
    const rendered = new Template(source).render({
      messages: [{ role: "user", content: LEAD }],
      add_generation_prompt: true,
      bos_token: tokenText(config.bos_token) ?? "",
      eos_token: tokenText(config.eos_token) ?? "",
    });
    // The template writes the special tokens itself: the rendered text is tokenized without adding more.
    lead = count(rendered, false);
  }
  const perWord: Record<string, number> = {};
  for (const w of VOCABULARY) perWord[w] = count(`${LEAD} ${w}`, false) - base;
  return { lead, perWord, source: `the tokenizer in ${path}` };
}
