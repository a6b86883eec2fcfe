import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type Api, type Endpoint, EndpointUrlError, resolveEndpoint } from "../client/endpoint.js";
import { discoverModels } from "../client/model-discovery.js";
import type { GenerationParams } from "../client/request-body.js";
import { DEFAULT_PROMPT, type PromptSpec } from "../core/prompt-source.js";
import { type SimServer, startSimServer } from "../sim/sim-server.js";
import { EndpointError, UsageError } from "./exit-codes.js";
import { jsonObject, nonNegativeNumber, positiveInt } from "./option-parsers.js";
import { addSimOptions, type SimFlags, simParamsFrom } from "./sim-options.js";

export interface TargetFlags extends SimFlags {
  url?: string;
  model?: string;
  api: Api;
  apiKey?: string;
  stream: boolean;
  maxTokens?: number;
  outputTokens?: number;
  inputTokens?: number;
  ignoreEos?: boolean;
  prompt?: string;
  promptFile?: string;
  temperature?: number;
  extraBody?: Record<string, unknown>;
  timeout: number;
  seed: number;
}

/** Flags that say where to send requests and what to ask for (bench and probe share them). */
export function addTargetOptions(cmd: Command): Command {
  cmd
    .option(
      "--url <url>",
      "OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (default: embedded simulator)",
    )
    .option("--model <name>", "model to request (default: the first one GET /v1/models lists)")
    .addOption(
      new Option("--api <kind>", "which API to call").choices(["chat", "completions"]).default("chat"),
    )
    .addOption(
      new Option("--api-key <key>", "bearer token (or set STREAMSLO_API_KEY / OPENAI_API_KEY)").env(
        "STREAMSLO_API_KEY",
      ),
    )
    .option("--no-stream", "plain HTTP: one JSON response, wall time only")
    .option("--max-tokens <n>", "max_tokens per request (default 64)", positiveInt)
    .option(
      "--output-tokens <n>",
      "generate exactly n tokens (sets max_tokens and asks the server to ignore EOS)",
      positiveInt,
    )
    .option("--input-tokens <n>", "synthetic prompts of about n tokens, different per request", positiveInt)
    .option(
      "--no-ignore-eos",
      "with --output-tokens, do not send ignore_eos/min_tokens (strict OpenAI servers)",
    )
    .option("--prompt <text>", "prompt text")
    .option("--prompt-file <file>", "read the prompt from a file")
    .option("--temperature <t>", "sampling temperature", nonNegativeNumber)
    .option(
      "--extra-body <json>",
      "fields merged into every request body, e.g. '{\"cache_prompt\": false}'",
      jsonObject,
    )
    .option(
      "--timeout <s>",
      "seconds to wait for headers, and the longest silence mid-stream",
      nonNegativeNumber,
      120,
    )
    .option("--seed <n>", "seed for synthetic prompts", positiveInt, 1);
  return addSimOptions(cmd);
}

export interface Target {
  endpoint: Endpoint;
  model: string;
  apiKey?: string;
  /** The models the endpoint listed (empty when it has no /models route). */
  models: string[];
  /** Set when running against the embedded simulator; close it when done. */
  sim?: SimServer;
  generation: GenerationParams;
  prompt: PromptSpec;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

function promptSpec(f: TargetFlags): PromptSpec {
  const given = [f.prompt !== undefined, f.promptFile !== undefined, f.inputTokens !== undefined].filter(
    Boolean,
  ).length;
  if (given > 1) throw new UsageError("use only one of --prompt, --prompt-file and --input-tokens");
  if (f.promptFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(f.promptFile, "utf8");
    } catch (err) {
      throw new UsageError(
        `cannot read --prompt-file ${f.promptFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
    if (text.trim() === "") throw new UsageError(`--prompt-file ${f.promptFile} is empty`);
    return { kind: "fixed", text };
  }
  if (f.inputTokens !== undefined) return { kind: "synthetic", inputTokens: f.inputTokens, seed: f.seed };
  return { kind: "fixed", text: f.prompt ?? DEFAULT_PROMPT };
}

/**
 * Resolves flags into a ready target: validates them, starts the embedded simulator when no URL
 * is given, and checks (GET /models) that the endpoint is reachable and OpenAI-compatible.
 */
export async function resolveTarget(f: TargetFlags): Promise<Target> {
  const prompt = promptSpec(f);
  if (f.outputTokens !== undefined && f.maxTokens !== undefined && f.maxTokens !== f.outputTokens) {
    throw new UsageError("--output-tokens sets max_tokens; drop --max-tokens or make them equal");
  }
  // An empty variable counts as unset.
  const apiKey = f.apiKey || process.env.OPENAI_API_KEY || undefined;
  let sim: SimServer | undefined;
  let url = f.url;
  if (url === undefined) {
    sim = await startSimServer(simParamsFrom(f));
    url = sim.baseUrl;
  }
  let endpoint: Endpoint;
  try {
    endpoint = resolveEndpoint(url, f.api);
  } catch (err) {
    if (err instanceof EndpointUrlError) throw new UsageError(err.message);
    throw err;
  }
  const timeoutMs = f.timeout * 1000;
  // Against the embedded simulator, only an explicit --api-key overrides the simulator's own.
  const key = sim ? (f.apiKey ?? sim.params.apiKey) : apiKey;
  const found = await discoverModels(endpoint, key, Math.min(timeoutMs, 15_000));
  let models: string[] = [];
  switch (found.kind) {
    case "unreachable":
      await sim?.close();
      throw new EndpointError(`cannot reach ${url}: ${found.message}. Is the server running? Check --url.`);
    case "unauthorized":
      await sim?.close();
      throw new EndpointError(
        `${url} answered HTTP ${found.status} (unauthorized): pass --api-key or set STREAMSLO_API_KEY / OPENAI_API_KEY.`,
      );
    case "not-openai":
      await sim?.close();
      throw new EndpointError(
        `${found.message}: this does not look like an OpenAI-compatible API. Point --url at the API base, e.g. http://host:8000/v1.`,
      );
    case "no-models-route":
      if (f.model === undefined) {
        await sim?.close();
        throw new EndpointError(
          `${endpoint.origin}${endpoint.basePath}/models answered HTTP ${found.status}; pass --model, or check that --url is the API base (e.g. http://host:8000/v1).`,
        );
      }
      break;
    case "ok":
      models = found.models;
  }
  const model = f.model ?? models[0];
  if (model === undefined) {
    await sim?.close();
    throw new EndpointError(`${url} lists no models; pass --model`);
  }
  const maxTokens = f.outputTokens ?? f.maxTokens ?? 64;
  return {
    endpoint,
    model,
    apiKey: key,
    models,
    sim,
    prompt,
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
    generation: {
      api: endpoint.api,
      model,
      stream: f.stream,
      maxTokens,
      ignoreEos: f.outputTokens !== undefined && f.ignoreEos !== false,
      temperature: f.temperature,
      extraBody: f.extraBody,
    },
  };
}
