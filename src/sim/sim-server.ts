import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { createRng, deriveSeed, type Rng } from "../core/rng.js";
import { countTokens, word } from "../core/synthetic-text.js";
import { BatchEngine } from "./engine.js";
import { promptBlocks } from "./prefix-cache.js";
import type { SimParams } from "./presets.js";
import { SimMetrics } from "./server-metrics.js";
import { SttSim } from "./speech/stt-sim.js";
import { TTS_SIM_PATH, TtsSim } from "./speech/tts-sim.js";

const MAX_BODY_BYTES = 1 << 20;
/** Template tokens a chat server adds around the messages. */
const CHAT_TEMPLATE_TOKENS = 8;

export interface SimServer {
  /** scheme://host:port */
  origin: string;
  /** The OpenAI base URL: origin + "/v1". */
  baseUrl: string;
  engine: BatchEngine;
  params: SimParams;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = "BadRequestError",
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** vLLM's error object shape. */
function sendError(res: ServerResponse, status: number, message: string, type: string): void {
  sendJson(res, status, { object: "error", message, type, param: null, code: status });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

interface Generation {
  chat: boolean;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  maxTokens: number;
  outputTokens: number;
  finishReason: "length" | "stop";
  logprobs: boolean;
  /** The prompt's block hashes, for the prefix cache. */
  prefixBlocks: number[];
}

function promptText(body: Record<string, unknown>, chat: boolean): string {
  if (chat) {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new HttpError(400, "`messages` must be a non-empty array");
    }
    return body.messages
      .map((m) => {
        const c = (m as { content?: unknown }).content;
        if (typeof c === "string") return c;
        if (Array.isArray(c)) return c.map((p) => (p as { text?: string }).text ?? "").join(" ");
        return "";
      })
      .join(" ");
  }
  if (typeof body.prompt === "string") return body.prompt;
  if (Array.isArray(body.prompt)) return body.prompt.join(" ");
  throw new HttpError(400, "`prompt` must be a string");
}

function parseGeneration(raw: string, chat: boolean, p: SimParams, rng: Rng): Generation {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  const b = body as Record<string, unknown>;
  const model = b.model === undefined ? p.model : b.model;
  if (model !== p.model)
    throw new HttpError(404, `The model \`${String(model)}\` does not exist.`, "NotFoundError");
  const max = b.max_tokens ?? b.max_completion_tokens ?? p.defaultMaxTokens;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    throw new HttpError(400, "`max_tokens` must be a positive integer");
  }
  const text = promptText(b, chat);
  const promptTokens = Math.max(1, countTokens(text)) + (chat ? CHAT_TEMPLATE_TOKENS : 0);
  const minTokens = typeof b.min_tokens === "number" ? b.min_tokens : 0;
  // Without ignore_eos the "model" stops on its own: half the time at max_tokens, else earlier.
  const natural = rng() < 0.5 ? max : Math.max(1, Math.ceil(max * (0.3 + 0.7 * rng())));
  const outputTokens = b.ignore_eos === true ? max : Math.min(max, Math.max(minTokens, natural));
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return {
    chat,
    model: p.model,
    stream: b.stream === true,
    includeUsage: so?.include_usage === true,
    promptTokens,
    maxTokens: max,
    outputTokens,
    finishReason: outputTokens >= max ? "length" : "stop",
    logprobs: b.logprobs === true || typeof b.logprobs === "number",
    prefixBlocks: promptBlocks(promptWords(text)),
  };
}

function promptWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * POST /tokenize as vLLM (`{"prompt"}` or `{"messages"}`, answering count and tokens) and llama.cpp
 * (`{"content"}`, answering tokens) shape it: the simulator's tokens are its words, plus the chat
 * template's for messages, each word's id a hash of it within a 32k vocabulary.
 */
function tokenizeAnswer(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  const b = (body ?? {}) as Record<string, unknown>;
  const chat = Array.isArray(b.messages);
  const text = chat
    ? promptText(b, true)
    : typeof b.content === "string"
      ? b.content
      : typeof b.prompt === "string"
        ? b.prompt
        : undefined;
  if (text === undefined) throw new HttpError(400, "give `prompt`, `content` or `messages` to tokenize");
  const ids = promptWords(text).map((w) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193) >>> 0;
    return h % 32_000;
  });
  const template = chat ? Array.from({ length: CHAT_TEMPLATE_TOKENS }, (_, i) => 32_000 + i) : [];
  const tokens = [...template, ...ids];
  return { count: tokens.length, max_model_len: 32_768, tokens };
}

/** Where in the stream each drawn fault strikes (token index), if it does. */
interface FaultPlan {
  dropAt?: number;
  stallAt?: number;
  errorAt?: number;
  delayMs: number;
}

function planFaults(p: SimParams, rng: Rng, outputTokens: number): FaultPlan {
  const f = p.faults;
  const at = () => Math.floor(rng() * outputTokens);
  const plan: FaultPlan = { delayMs: rng() < f.slowFirstByteRate ? f.slowFirstByteMs : 0 };
  if (rng() < f.dropRate) plan.dropAt = Math.max(1, at());
  if (rng() < f.stallRate) plan.stallAt = at();
  if (rng() < f.inbandErrorRate) plan.errorAt = at();
  return plan;
}

/** Writes SSE for one request, holding writes back while a simulated stall lasts. */
class SseWriter {
  private held: string[] = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private endPending = false;

  constructor(private readonly res: ServerResponse) {}

  write(data: string): void {
    const frame = `data: ${data}\n\n`;
    if (this.stallTimer) this.held.push(frame);
    else this.res.write(frame);
  }

  stall(ms: number): void {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.held.length > 0 && !this.res.destroyed) this.res.write(this.held.join(""));
      this.held = [];
      if (this.endPending) this.res.end();
    }, ms);
  }

  end(): void {
    if (this.stallTimer) this.endPending = true;
    else this.res.end();
  }
}

export class SimHandler {
  readonly engine: BatchEngine;
  readonly metrics: SimMetrics;
  private requests = 0;

  constructor(readonly params: SimParams) {
    this.engine = new BatchEngine(params.engine);
    this.metrics = new SimMetrics(params.model, this.engine);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendError(res, err.status, err.message, err.type);
      else sendError(res, 500, `simulator error: ${(err as Error).message}`, "InternalServerError");
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] as string;
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/health") {
      res.writeHead(200).end();
      return;
    }
    if (method === "GET" && (path === "/v1/models" || path === "/models")) {
      this.authorize(req);
      sendJson(res, 200, {
        object: "list",
        data: [{ id: this.params.model, object: "model", created: 0, owned_by: "streamslo-sim" }],
      });
      return;
    }
    if (method === "GET" && path === "/metrics") {
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, { "content-type": this.metrics.registry.contentType }).end(text);
      return;
    }
    if (method === "POST" && path === "/tokenize") {
      this.authorize(req);
      sendJson(res, 200, tokenizeAnswer(await readBody(req)));
      return;
    }
    const chat = path === "/v1/chat/completions";
    if (chat || path === "/v1/completions") {
      if (method !== "POST") throw new HttpError(405, `${path} takes POST`, "MethodNotAllowed");
      this.authorize(req);
      await this.generate(req, res, chat);
      return;
    }
    throw new HttpError(404, `no route for ${method} ${path}`, "NotFound");
  }

  private authorize(req: IncomingMessage): void {
    const key = this.params.apiKey;
    if (key && req.headers.authorization !== `Bearer ${key}`) {
      throw new HttpError(401, "missing or wrong API key", "Unauthorized");
    }
  }

  private async generate(req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
    const raw = await readBody(req);
    const seq = this.requests++;
    const rng = createRng(deriveSeed(this.params.seed, seq));
    const g = parseGeneration(raw, chat, this.params, rng);
    if (!this.engine.fits(g.promptTokens, g.maxTokens)) {
      throw new HttpError(
        400,
        `prompt + max_tokens exceed the KV cache (${this.params.engine.kvCacheTokens} tokens)`,
      );
    }
    if (rng() < this.params.faults.http5xxRate) {
      throw new HttpError(503, "simulated overload", "ServiceUnavailable");
    }
    const faults = planFaults(this.params, rng, g.outputTokens);
    const arrived = performance.now();
    const start = () => {
      if (res.destroyed) return;
      this.run(seq, g, faults, rng, res, arrived);
    };
    if (faults.delayMs > 0) setTimeout(start, faults.delayMs);
    else start();
  }

  private run(
    seq: number,
    g: Generation,
    faults: FaultPlan,
    rng: Rng,
    res: ServerResponse,
    arrived: number,
  ): void {
    const id = `${g.chat ? "chatcmpl" : "cmpl"}-sim-${seq}`;
    const created = Math.floor(Date.now() / 1000);
    const object = g.chat ? "chat.completion.chunk" : "text_completion";
    const m = this.metrics;
    const labels = m.labels;
    const sse = new SseWriter(res);
    let text = "";
    let pending = "";
    let pendingTokens = 0;
    let firstTokenAt = 0;
    let lastTokenAt = 0;
    let finished = false;

    const chunk = (content: string, tokens: number, finish: string | null): string => {
      const logprobs = g.logprobs
        ? { content: Array.from({ length: tokens }, () => ({ logprob: -0.5 })) }
        : null;
      const choice = g.chat
        ? { index: 0, delta: { content }, logprobs, finish_reason: finish }
        : {
            index: 0,
            text: content,
            logprobs: g.logprobs ? { tokens: Array(tokens).fill("") } : null,
            finish_reason: finish,
          };
      return JSON.stringify({ id, object, created, model: g.model, choices: [choice] });
    };
    const usage = () => ({
      prompt_tokens: g.promptTokens,
      completion_tokens: g.outputTokens,
      total_tokens: g.promptTokens + g.outputTokens,
    });

    if (g.stream) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      if (g.chat) {
        sse.write(
          JSON.stringify({
            id,
            object,
            created,
            model: g.model,
            choices: [
              { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
            ],
          }),
        );
      }
    }

    const cancel = this.engine.submit({
      promptTokens: g.promptTokens,
      prefixBlocks: g.prefixBlocks,
      outputTokens: g.outputTokens,
      onAdmit: (queueMs) => m.queue.observe(labels, queueMs / 1000),
      onToken: (index, last) => {
        if (res.destroyed) return;
        const now = performance.now();
        if (index === 0) {
          firstTokenAt = now;
          m.ttft.observe(labels, (now - arrived) / 1000);
        } else m.itl.observe(labels, (now - lastTokenAt) / 1000);
        lastTokenAt = now;
        m.generationTokens.inc(labels);
        const piece = index === 0 ? word(rng) : ` ${word(rng)}`;
        if (!g.stream) {
          text += piece;
          if (last) {
            finished = true;
            this.finishMetrics(g, arrived, firstTokenAt, now);
            const choice = g.chat
              ? { index: 0, message: { role: "assistant", content: text }, finish_reason: g.finishReason }
              : { index: 0, text, finish_reason: g.finishReason };
            sendJson(res, 200, {
              id,
              object: g.chat ? "chat.completion" : "text_completion",
              created,
              model: g.model,
              choices: [choice],
              usage: usage(),
            });
          }
          return;
        }
        if (index === faults.dropAt) {
          finished = true;
          cancel();
          res.destroy();
          return;
        }
        if (index === faults.errorAt) {
          finished = true;
          cancel();
          sse.write(
            JSON.stringify({
              error: { message: "simulated engine error", type: "InternalServerError", code: 500 },
            }),
          );
          sse.end();
          return;
        }
        if (index === faults.stallAt) sse.stall(this.params.faults.stallMs);
        pending += piece;
        pendingTokens++;
        // As vLLM's --stream-interval: the first token goes alone, then k per chunk, the rest in the last.
        if (index === 0 || pendingTokens >= this.params.tokensPerChunk || last) {
          sse.write(chunk(pending, pendingTokens, last ? g.finishReason : null));
          pending = "";
          pendingTokens = 0;
        }
        if (last) {
          finished = true;
          this.finishMetrics(g, arrived, firstTokenAt, now);
          if (g.includeUsage) {
            sse.write(JSON.stringify({ id, object, created, model: g.model, choices: [], usage: usage() }));
          }
          sse.write("[DONE]");
          sse.end();
        }
      },
    });
    res.on("close", () => {
      if (!finished) cancel(); // the client went away: stop generating for it
    });
  }

  private finishMetrics(g: Generation, arrived: number, firstTokenAt: number, now: number): void {
    const labels = this.metrics.labels;
    this.metrics.e2e.observe(labels, (now - arrived) / 1000);
    // As vLLM: decode time over the tokens after the first, 0 for a one-token answer.
    const tpot = g.outputTokens > 1 ? (now - firstTokenAt) / 1000 / (g.outputTokens - 1) : 0;
    this.metrics.tpot.observe(labels, tpot);
    this.metrics.promptTokens.inc(labels, g.promptTokens);
    this.metrics.success.inc({ ...labels, finished_reason: g.finishReason });
  }
}

/** Starts the simulator on host:port (port 0 picks a free one). */
export async function startSimServer(params: SimParams, host = "127.0.0.1", port = 0): Promise<SimServer> {
  const handler = new SimHandler(params);
  const stt = new SttSim(params.speech.stt, params.faults, params.seed);
  const tts = new TtsSim(params.speech.tts, params.faults, params.seed);
  const allowed = (req: IncomingMessage) => {
    if (!params.apiKey) return true;
    const auth = req.headers.authorization ?? "";
    return auth === `Bearer ${params.apiKey}` || auth === `Token ${params.apiKey}`;
  };
  const server: Server = createServer((req, res) => {
    if ((req.url ?? "/").split("?")[0] !== TTS_SIM_PATH) return handler.handle(req, res);
    if (allowed(req)) tts.handle(req, res);
    else sendError(res, 401, "missing or wrong API key", "AuthenticationError");
  });
  // Speech-to-text streams arrive as WebSocket upgrades.
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    if (allowed(req)) stt.upgrade(req, socket, head);
    else socket.end("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });
  server.keepAliveTimeout = 30_000;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const origin = `http://${shownHost}:${addr.port}`;
  return {
    origin,
    baseUrl: `${origin}/v1`,
    engine: handler.engine,
    params,
    close: () =>
      new Promise<void>((resolve) => {
        handler.engine.stop();
        stt.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
