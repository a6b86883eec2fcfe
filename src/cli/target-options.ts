import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { type Api, type Endpoint, EndpointUrlError, resolveEndpoint } from "../client/endpoint.js";
import { fileTokenCosts } from "../client/file-tokenizer.js";
import { discoverModels } from "../client/model-discovery.js";
import type { GenerationParams } from "../client/request-body.js";
import { serverTokenCosts, TokenizerUnavailable } from "../client/server-tokenizer.js";
import type { TlsTrust } from "../client/tls-trust.js";
import { DatasetError, parseJsonlDataset, parseShareGpt } from "../core/dataset.js";
import type { LengthDistribution } from "../core/length-distribution.js";
import { DEFAULT_PROMPT, datasetSource, type PromptSource, type Workload } from "../core/workload.js";
import { type SimServer, startSimServer } from "../sim/sim-server.js";
import { EndpointError, UsageError } from "./exit-codes.js";
import { fileErrorWords } from "./file-errors.js";
import {
  jsonObject,
  lengthOption,
  nonEmpty,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  timeLimitSeconds,
} from "./option-parsers.js";
import { addSimOptions, type SimFlags, simParamsFrom } from "./sim-options.js";

export interface TargetFlags extends SimFlags {
  url?: string;
  model?: string;
  api: Api;
  apiKey?: string;
  stream: boolean;
  maxTokens?: number;
  outputTokens?: LengthDistribution;
  inputTokens?: LengthDistribution;
  dataset?: string;
  datasetFormat?: "jsonl" | "sharegpt";
  ignoreEos?: boolean;
  prompt?: string;
  promptFile?: string;
  temperature?: number;
  extraBody?: Record<string, unknown>;
  timeout: number;
  maxRequestTime: number;
  maxResponseMb: number;
  seed: number;
  caFile?: string;
  insecure?: boolean;
  sharedPrefix?: number;
  prefixGroups?: number;
  tokenizer?: string;
}

/** Flags that say where to send requests and what to ask for (bench and probe share them). */
export function addTargetOptions(cmd: Command): Command {
  cmd
    .option(
      "--url <url>",
      "OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (default: embedded simulator)",
    )
    .option("--model <name>", "model to request (default: the first one GET /v1/models lists)", nonEmpty)
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
      "--output-tokens <len>",
      "exact answer lengths: N, uniform:MIN:MAX or normal:MEAN:SD (asks the server to ignore EOS)",
      lengthOption,
    )
    .option(
      "--input-tokens <len>",
      "synthetic prompts of N (or uniform:/normal:) tokens, different per request",
      lengthOption,
    )
    .option(
      "--shared-prefix <n>",
      "with --input-tokens: the first n tokens are a system prefix shared by every prompt of a group",
      positiveInt,
    )
    .option(
      "--tokenizer <source>",
      "with --input-tokens: exact prompt lengths by the endpoint's /tokenize (server) or a tokenizer.json file",
    )
    .option(
      "--prefix-groups <g>",
      "with --shared-prefix: g groups, each with its own prefix, taken in turn",
      positiveInt,
    )
    .option(
      "--dataset <file>",
      "prompts from a JSONL file ({prompt, output_tokens?} per line) or ShareGPT JSON",
    )
    .addOption(
      new Option("--dataset-format <format>", "dataset format (default: from the extension)").choices([
        "jsonl",
        "sharegpt",
      ]),
    )
    .option("--no-ignore-eos", "never send ignore_eos/min_tokens for exact lengths (strict OpenAI servers)")
    .option("--prompt <text>", "prompt text", nonEmpty)
    .option("--prompt-file <file>", "read the prompt from a file")
    .option("--temperature <t>", "sampling temperature", nonNegativeNumber)
    .option(
      "--extra-body <json>",
      "fields merged into every request body, e.g. '{\"cache_prompt\": false}'",
      jsonObject,
    )
    .option(
      "--timeout <s>",
      "time to wait for headers, and the longest silence mid-stream (e.g. 120, 2m; 0: no limit)",
      timeLimitSeconds,
      120,
    )
    .option(
      "--max-request-time <s>",
      "longest a whole request may take, e.g. a stream that never ends (e.g. 600, 10m; 0: no limit)",
      timeLimitSeconds,
      600,
    )
    .option(
      "--max-response-mb <n>",
      "largest response body (MiB) the client holds; a bigger one is cut: response_too_large",
      positiveNumber,
      64,
    )
    .option("--seed <n>", "seed for prompts, lengths, dataset order and arrivals", nonNegativeInt, 1)
    .option("--ca-file <file>", "PEM file of a CA to trust for an https --url (a self-signed or private CA)")
    .option("--insecure", "do not verify the https server's certificate (recorded in run.json)");
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
  workload: Workload;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxRequestMs?: number;
  maxResponseBytes: number;
  /** The certificates the run trusts for https; undefined: Node's own (and NODE_EXTRA_CA_CERTS). */
  tls?: TlsTrust;
}

/** --ca-file and --insecure, checked: for https URLs only, one or the other. */
function tlsTrust(f: TargetFlags, url: string | undefined): TlsTrust | undefined {
  if (f.caFile === undefined && !f.insecure) return undefined;
  const flag = f.caFile !== undefined ? "--ca-file" : "--insecure";
  if (f.caFile !== undefined && f.insecure)
    throw new UsageError(
      "use one of --ca-file and --insecure: --insecure verifies nothing, so the CA would not matter",
    );
  if (url === undefined || !/^https:/i.test(url))
    throw new UsageError(`${flag} applies to an https --url; drop it or give the https URL`);
  if (f.insecure) return { rejectUnauthorized: false };
  const ca = readText(f.caFile as string, "--ca-file");
  if (!ca.includes("-----BEGIN CERTIFICATE-----"))
    throw new UsageError(
      `--ca-file ${f.caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); pass the CA's PEM file`,
    );
  return { ca, rejectUnauthorized: true };
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${fileErrorWords(err)}`);
  }
}

function promptSource(f: TargetFlags): PromptSource {
  const given = [f.prompt, f.promptFile, f.inputTokens, f.dataset].filter((v) => v !== undefined).length;
  if (given > 1)
    throw new UsageError("use only one of --prompt, --prompt-file, --input-tokens and --dataset");
  if (f.promptFile !== undefined) {
    const text = readText(f.promptFile, "--prompt-file");
    if (text.trim() === "") throw new UsageError(`--prompt-file ${f.promptFile} is empty`);
    return { kind: "fixed", text };
  }
  if (f.dataset !== undefined) {
    const text = readText(f.dataset, "--dataset");
    const format = f.datasetFormat ?? (f.dataset.endsWith(".jsonl") ? "jsonl" : "sharegpt");
    try {
      const items = format === "jsonl" ? parseJsonlDataset(text, f.dataset) : parseShareGpt(text, f.dataset);
      return datasetSource(items, f.dataset, f.seed);
    } catch (err) {
      if (err instanceof DatasetError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (f.inputTokens !== undefined)
    return {
      kind: "synthetic",
      input: f.inputTokens,
      ...(f.sharedPrefix !== undefined
        ? { prefix: { tokens: f.sharedPrefix, groups: f.prefixGroups ?? 1 } }
        : {}),
    };
  return { kind: "fixed", text: f.prompt ?? DEFAULT_PROMPT };
}

/**
 * Resolves flags into a ready target: validates them, starts the embedded simulator when no URL
 * is given, and checks (GET /models) that the endpoint is reachable and OpenAI-compatible.
 * `signal` (Ctrl-C) cuts that check short; the caller then sees `signal.aborted`.
 */
/** A header value cannot carry these: a key with one would fail every request, or split it. */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 127) return true;
  }
  return false;
}

export async function resolveTarget(f: TargetFlags, signal?: AbortSignal): Promise<Target> {
  const prompts = promptSource(f);
  if (f.outputTokens !== undefined && f.maxTokens !== undefined) {
    throw new UsageError("--output-tokens sets max_tokens; use one of --output-tokens and --max-tokens");
  }
  // An empty variable counts as unset.
  const apiKey = f.apiKey || process.env.OPENAI_API_KEY || undefined;
  if (apiKey !== undefined && hasControlCharacter(apiKey)) {
    throw new UsageError(
      "the API key (--api-key, STREAMSLO_API_KEY or OPENAI_API_KEY) holds a line break or another control character; pass the key alone (a key read from a file keeps its newline: strip it)",
    );
  }
  const tls = tlsTrust(f, f.url);
  if (tls && !tls.rejectUnauthorized)
    process.stderr.write(
      "streamslo: warning: --insecure: the server's TLS certificate is not verified (recorded in run.json)\n",
    );
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
  // The pre-flight check is bounded even when --timeout 0 lifts the limit for the load itself.
  const found = await discoverModels(endpoint, key, Math.min(timeoutMs || 15_000, 15_000), signal, tls);
  let models: string[] = [];
  switch (found.kind) {
    case "tls":
      throw new EndpointError(
        `${url}: TLS failed: ${found.message}. Pass --ca-file with the PEM of the CA that signed it (or set NODE_EXTRA_CA_CERTS to that file), or --insecure to skip verification.`,
      );
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
  if (f.tokenizer !== undefined && prompts.kind === "synthetic") {
    try {
      prompts.costs =
        f.tokenizer === "server"
          ? await serverTokenCosts(endpoint, model, key)
          : fileTokenCosts(f.tokenizer, endpoint.api);
    } catch (err) {
      await sim?.close();
      if (err instanceof TokenizerUnavailable)
        throw f.tokenizer === "server"
          ? new EndpointError(
              `--tokenizer server: ${err.message}; drop --tokenizer (prompt lengths are then estimated)`,
            )
          : new UsageError(`--tokenizer ${f.tokenizer}: ${err.message}`);
      throw err;
    }
  }
  return {
    endpoint,
    model,
    apiKey: key,
    models,
    sim,
    workload: { prompts, output: f.outputTokens, maxTokens: f.maxTokens ?? 64, seed: f.seed },
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
    maxRequestMs: f.maxRequestTime > 0 ? f.maxRequestTime * 1000 : undefined,
    maxResponseBytes: Math.round(f.maxResponseMb * 1024 * 1024),
    tls,
    generation: {
      api: endpoint.api,
      model,
      stream: f.stream,
      ignoreEos: f.ignoreEos !== false,
      temperature: f.temperature,
      extraBody: f.extraBody,
    },
  };
}
