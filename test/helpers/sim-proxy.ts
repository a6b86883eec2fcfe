import { devNull } from "node:os";
import { Agent, request } from "undici";
import { type ProxyOptions, StreamsloProxy } from "../../src/proxy/proxy-server.js";
import { DEFAULT_SIM_MODEL, simParams } from "../../src/sim/presets.js";
import { type SimServer, startSimServer } from "../../src/sim/sim-server.js";

export interface SimProxy {
  sim: SimServer;
  proxy: StreamsloProxy;
  /** The proxy's client-facing origin. */
  url: string;
  /** The proxy's admin origin (/metrics, /healthz). */
  adminUrl: string;
  close(): Promise<void>;
}

/** The fast simulator with a StreamsloProxy in front of it, both on loopback ports picked by the OS. */
export async function startSimProxy(options: Partial<ProxyOptions> = {}): Promise<SimProxy> {
  const sim = await startSimServer(simParams("fast"));
  const proxy = new StreamsloProxy({
    upstream: sim.origin,
    host: "127.0.0.1",
    port: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    service: "streamslo",
    maxStreams: 1024,
    upstreamTimeoutMs: 10_000,
    maxHeaderBytes: 16 * 1024,
    maxBodyBytes: 1024 * 1024,
    drainMs: 1000,
    logFile: devNull,
    ...options,
  });
  const { url, adminUrl } = await proxy.start();
  return {
    sim,
    proxy,
    url,
    adminUrl,
    close: async () => {
      await proxy.stop();
      await sim.close();
    },
  };
}

export interface StreamRequest {
  maxTokens: number;
  prompt?: string;
  /** Make each request's prompt its own (a number in front), so no prefix is shared. */
  distinct?: boolean;
  headers?: Record<string, string>;
}

/** One streamed chat completion, read to the end; resolves with the HTTP status. */
export async function streamChat(origin: string, r: StreamRequest, agent: Agent): Promise<number> {
  const res = await request(`${origin}/v1/chat/completions`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json", ...r.headers },
    body: JSON.stringify({
      model: DEFAULT_SIM_MODEL,
      messages: [{ role: "user", content: r.prompt ?? "hello" }],
      max_tokens: r.maxTokens,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.text();
  return res.statusCode;
}

/** Sends `n` requests, at most `concurrency` at a time; resolves with their statuses. */
export async function streamMany(
  origin: string,
  n: number,
  concurrency: number,
  r: StreamRequest,
): Promise<number[]> {
  const agent = new Agent({ connections: null });
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      // A first word of its own changes every block hash: the simulator's prefix cache finds nothing to reuse.
      const asked = r.distinct && r.prompt !== undefined ? { ...r, prompt: `${k} ${r.prompt}` } : r;
      statuses.push(await streamChat(origin, asked, agent));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  } finally {
    await agent.close();
  }
  return statuses;
}
