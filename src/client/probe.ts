import diagnostics from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { type Agent, buildConnector, Client, type Dispatcher } from "undici";
import type { RequestRecord } from "../core/record.js";
import { Clock } from "./clock.js";
import { type SendOptions, sendGeneration } from "./generation-client.js";
import { connectOptions, type TlsTrust, tlsAgent } from "./tls-trust.js";

/** One request's timeline, in ms from the moment it was started. */
export interface ProbeTimeline {
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  sentMs?: number;
  headersMs?: number;
  firstContentMs?: number;
  lastContentMs?: number;
  endMs?: number;
  chunks: number;
  outputTokens?: number;
  /** Prompt tokens as the server's usage counted them. */
  promptTokens?: number;
  tokenSource: RequestRecord["tokenSource"];
  status?: number;
  outcome: RequestRecord["outcome"];
  error?: RequestRecord["error"];
  /** The address the connection reached. */
  remoteAddress?: string;
}

/**
 * Sends one request on a fresh connection and times each step: DNS lookup, TCP connect, TLS
 * handshake (socket events, through a wrapped undici connector), request sent (undici's
 * diagnostics channel), response headers, first and last content chunk, stream end.
 */
export async function probeOnce(opts: SendOptions, body: string, trust?: TlsTrust): Promise<ProbeTimeline> {
  const clock = new Clock();
  const marks: { dns?: number; connect?: number; tls?: number; sent?: number; remote?: string } = {};
  const base = buildConnector(connectOptions(trust) ?? { rejectUnauthorized: true });
  const connect: buildConnector.connector = (options, callback) => {
    const socket = (base as unknown as (o: typeof options, cb: typeof callback) => Socket)(options, callback);
    // prepend: undici's own listeners write the request as soon as the socket connects.
    socket.prependOnceListener("lookup", () => {
      marks.dns = clock.now();
    });
    socket.prependOnceListener("connect", () => {
      marks.connect = clock.now();
      marks.remote = socket.remoteAddress;
    });
    socket.prependOnceListener("secureConnect", () => {
      marks.tls = clock.now();
    });
  };
  const client = new Client(opts.endpoint.origin, { connect, pipelining: 1 });
  // A 307/308 to another origin is followed on a pool of its own; the timeline's marks are the first hop's.
  let elsewhere: Agent | undefined;
  const dispatcher = {
    dispatch: (o: Dispatcher.DispatchOptions, h: Dispatcher.DispatchHandler) => {
      const origin = typeof o.origin === "string" ? o.origin : o.origin?.origin;
      if (origin === undefined || origin === new URL(opts.endpoint.origin).origin)
        return client.dispatch(o, h);
      elsewhere ??= tlsAgent(trust);
      return elsewhere.dispatch(o, h);
    },
  };
  const onBodySent = () => {
    marks.sent ??= clock.now();
  };
  diagnostics.subscribe("undici:request:bodySent", onBodySent);
  try {
    const rec = await sendGeneration(dispatcher, clock, opts, body, {
      id: "probe",
      scenario: "probe",
      phase: "measure",
      intendedStartMs: 0,
    });
    const rel = (t: number | undefined) => (t === undefined ? undefined : t - rec.startMs);
    return {
      dnsMs: rel(marks.dns),
      connectMs: rel(marks.connect),
      tlsMs: rel(marks.tls),
      sentMs: rel(marks.sent),
      headersMs: rel(rec.headersMs),
      firstContentMs: rel(rec.firstContentMs),
      lastContentMs: rel(rec.chunkTimesMs[rec.chunkTimesMs.length - 1]),
      endMs: rel(rec.endMs),
      chunks: rec.chunkTimesMs.length,
      outputTokens: rec.outputTokens,
      promptTokens: rec.promptTokens,
      tokenSource: rec.tokenSource,
      status: rec.status,
      outcome: rec.outcome,
      error: rec.error,
      remoteAddress: marks.remote,
    };
  } finally {
    diagnostics.unsubscribe("undici:request:bodySent", onBodySent);
    await client.destroy();
    await elsewhere?.destroy();
  }
}
