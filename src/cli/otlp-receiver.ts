import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import {
  type SpanSummary,
  summarizeJsonExport,
  summarizeProtobufExport,
} from "../core/doctor/otlp-payload.js";

const MAX_BODY = 16 * 1024 * 1024;

export interface OtlpReceiver {
  /** host:port it listens on. */
  address: string;
  received: SpanSummary;
  /** Resolves once a span of `traceId` arrived, or `timeoutMs` passed; with how long it waited. */
  waitForTrace(traceId: string, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error("body too large"));
      else parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * A minimal OTLP/HTTP trace receiver: POST /v1/traces in JSON or protobuf (gzip or not). It keeps
 * only each batch's resource service.name and trace ids, which is all the doctor checks.
 */
export async function startOtlpReceiver(host: string, port: number): Promise<OtlpReceiver> {
  const received: SpanSummary = { services: [], traceIds: [] };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    const type = String(req.headers["content-type"] ?? "");
    const json = type.includes("json");
    try {
      let body = await readBody(req);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const s = json ? summarizeJsonExport(body.toString("utf8")) : summarizeProtobufExport(body);
      received.services.push(...s.services);
      received.traceIds.push(...s.traceIds);
    } catch (err) {
      res
        .writeHead(400, { "content-type": "text/plain" })
        .end(`cannot read the export: ${(err as Error).message}`);
      return;
    }
    // An empty ExportTraceServiceResponse: {} in JSON, zero bytes in protobuf.
    if (json) res.writeHead(200, { "content-type": "application/json" }).end("{}");
    else res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`,
    received,
    async waitForTrace(traceId, timeoutMs) {
      const start = Date.now();
      while (!received.traceIds.includes(traceId) && Date.now() - start < timeoutMs) await sleep(50);
      return Date.now() - start;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
