import type { Socket } from "node:net";
import { type Misbehaviour, pump, respond, sse, sseHead } from "./hostile-server.js";
import { chat } from "./scheduled-server.js";

const MiB = 1024 * 1024;

/** Runs `fn` every `ms` until the socket closes. */
function every(socket: Socket, ms: number, fn: () => void): void {
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : fn()), ms);
  socket.once("close", () => clearInterval(timer));
}

const OPENING = sse(chat.role()) + sse(chat.token("a")) + sse(chat.token("b"));

/** The opening of a healthy stream (role chunk and two tokens), its body running to the close. */
function openStream(socket: Socket): void {
  sseHead(socket);
  socket.write(OPENING);
}

/** One chunk of a chunked transfer-encoded body. */
function chunked(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/** Ways a server can fail a streaming generation request, each named for the test table. */
export const misbehaviours = {
  "HTTP 500": (s) => respond(s, 500, "application/json", '{"error":{"message":"engine crashed"}}'),

  "connection closed before the response": (s) => s.destroy(),

  "connection reset mid-stream": (s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    s.write(chunked(OPENING));
    setTimeout(() => s.resetAndDestroy(), 20);
  },

  "connection reset mid-stream, body read to the close": (s) => {
    openStream(s);
    setTimeout(() => s.resetAndDestroy(), 20);
  },

  "stall longer than the timeout": (s) => openStream(s),

  "slowloris headers": (s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-slow: ");
    every(s, 20, () => s.write("a"));
  },

  "headers without end": (s) => {
    s.write("HTTP/1.1 200 OK\r\n");
    pump(s, () => `x-filler: ${"f".repeat(1000)}\r\n`);
  },

  "never-ending stream": (s) => {
    openStream(s);
    every(s, 5, () => s.write(sse(chat.token("x"))));
  },

  "token flood without end": (s) => {
    openStream(s);
    const burst = sse(chat.token("x")).repeat(200);
    pump(s, () => burst);
  },

  "one 8 MiB SSE line": (s) => {
    sseHead(s);
    s.write(sse(chat.token("x".repeat(8 * MiB), "stop")));
    s.end(sse("[DONE]"));
  },

  "one line without end": (s) => {
    sseHead(s);
    s.write(`data: {"choices":[{"delta":{"content":"`);
    const block = "y".repeat(64 * 1024);
    pump(s, () => block);
  },

  "text/html 200": (s) => respond(s, 200, "text/html", "<!doctype html><title>Sign in</title><p>portal</p>"),

  "application/json when streaming was asked": (s) =>
    respond(
      s,
      200,
      "application/json",
      JSON.stringify({
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      }),
    ),

  "invalid JSON in data lines": (s) => {
    sseHead(s);
    s.write(sse(chat.role()) + sse("{not json") + sse(chat.token("a", "stop")));
    s.end(sse("[DONE]"));
  },

  "200 with an empty body": (s) => respond(s, 200, "text/event-stream", ""),

  "endless JSON body (no streaming)": (s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n");
    s.write('{"choices":[{"message":{"content":"');
    const block = "z".repeat(64 * 1024);
    pump(s, () => block);
  },

  "200 then immediate close": (s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    s.destroy();
  },
} satisfies Record<string, Misbehaviour>;

export type MisbehaviourName = keyof typeof misbehaviours;
