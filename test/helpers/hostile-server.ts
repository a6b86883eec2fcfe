import { createServer, type Server, type Socket } from "node:net";
import { listenOnLoopback } from "./loopback.js";

/** One request as read off the socket: enough to route it and to check what the client sent. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Answers one generation request by writing raw bytes to (or breaking) the socket. */
export type Misbehaviour = (socket: Socket, req: RawRequest) => void;

export interface HostileServer {
  url: string;
  origin: string;
  /** Generation requests received (not GET /v1/models). */
  received: RawRequest[];
  close(): Promise<void>;
}

const HEAD_END = "\r\n\r\n";

function parseHead(head: string): Omit<RawRequest, "body"> {
  const [requestLine = "", ...lines] = head.split("\r\n");
  const [method = "", path = ""] = requestLine.split(" ");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { method, path, headers };
}

/** A complete HTTP/1.1 response with a fixed length; the connection closes after it. */
export function respond(socket: Socket, status: number, contentType: string, body: string | Buffer): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  socket.write(
    `HTTP/1.1 ${status} X\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes.length}\r\nconnection: close\r\n\r\n`,
  );
  socket.end(bytes);
}

/** Status line and headers of an SSE stream whose body runs until the connection closes. */
export function sseHead(socket: Socket, contentType = "text/event-stream"): void {
  socket.write(`HTTP/1.1 200 OK\r\ncontent-type: ${contentType}\r\nconnection: close\r\n\r\n`);
}

export function sse(payload: string): string {
  return `data: ${payload}\n\n`;
}

/** Writes `next()` over and over while the socket drains, until it closes: a client that reads slowly slows it. */
export function pump(socket: Socket, next: () => string | Buffer, paceMs = 0): void {
  const go = () => {
    while (!socket.destroyed) {
      const more = socket.write(next());
      if (paceMs > 0) {
        setTimeout(go, paceMs);
        return;
      }
      if (!more) {
        socket.once("drain", go);
        return;
      }
    }
  };
  go();
}

/**
 * A loopback server written on raw TCP, so it can do what well-behaved HTTP servers never do:
 * dribble headers, reset connections, send one line without end. GET /v1/models answers
 * properly (so `bench` gets past its pre-flight check); every other request gets `misbehave`.
 */
export async function startHostileServer(misbehave: Misbehaviour, models = ["m"]): Promise<HostileServer> {
  const received: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined); // resets from either side are part of the game
    let buf = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (d: Buffer) => {
      if (handled) return;
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf(HEAD_END);
      if (end < 0) return;
      const head = parseHead(buf.subarray(0, end).toString("latin1"));
      const length = Number(head.headers["content-length"] ?? 0);
      if (buf.length < end + HEAD_END.length + length) return;
      handled = true;
      const req = { ...head, body: buf.subarray(end + HEAD_END.length).toString("utf8") };
      if (req.method === "GET" && req.path.endsWith("/models")) {
        const data = models.map((id) => ({ id, object: "model" }));
        respond(socket, 200, "application/json", JSON.stringify({ object: "list", data }));
      } else if (req.method === "GET") {
        respond(socket, 404, "text/plain", "not found");
      } else {
        received.push(req);
        misbehave(socket, req);
      }
    });
  });
  const listening = await listenOnLoopback(server, () => {
    for (const s of sockets) s.destroy();
  });
  return { ...listening, received };
}
