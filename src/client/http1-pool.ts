import { connect, type Socket } from "node:net";
import type { Dispatcher } from "undici";
import { Http1ResponseParser, type ResponseHead, type ResponseSink } from "./http1-response-parser.js";

/**
 * The generation client's own HTTP/1.1 connections to plain-http endpoints: one request at a time
 * per connection, kept alive between requests.
 *
 * Why not undici here: under many concurrent streams, what the client adds to each token's arrival
 * time is what it does per socket read. undici reads through Node's stream machinery (a fresh
 * Buffer and a 'data' event per read) and its WASM parser; measured on a 2-core VM with 256
 * streams emitting in step, that put the p99 of token arrival 1.7 to 2.3 ms behind emission, and
 * 7 to 12 ms at 1,024 streams, where a bare `onread` reader stayed at 1.0 to 1.5 and 2 to 3 ms.
 * Here every socket reads into one shared buffer (net's `onread`), and the body goes to the
 * handler as views into it: no copy, no stream, no event in between. TLS endpoints stay on undici.
 *
 * It speaks the part of undici's Dispatcher API that sendGeneration and the proxy use (dispatch
 * with a text or byte body, onRequestStart / onResponseStart / onResponseData / onResponseEnd /
 * onResponseError, pause and resume) and fails with undici's error codes, so transport-errors.ts
 * classifies both alike. A chunk handed to onResponseData is valid only during the call.
 */
export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private closed = false;
  /** One read buffer for every socket: each read is handled to its end before the next. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readonly host: string;
  private readonly port: number;

  private readonly hostname: string;
  private noReuse = false;

  constructor(
    origin: string,
    /** How long an idle connection is kept when the server gives no Keep-Alive hint, ms. */
    private readonly keepAliveMs = 30_000,
  ) {
    const u = new URL(origin);
    if (u.protocol !== "http:") throw new Error(`Http1Pool speaks plain http, not ${u.protocol}`);
    this.host = u.host;
    this.port = Number(u.port || 80);
    this.hostname = u.hostname.replace(/^\[|\]$/g, "");
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let request: string;
    try {
      request = requestText(opts, this.host);
    } catch (err) {
      const refused = new Exchange(opts, handler, "", undefined);
      refused.start();
      refused.fail(err as Error);
      return false;
    }
    const exchange = new Exchange(opts, handler, request, bufferBody(opts.body));
    exchange.start();
    if (exchange.finished) return true;
    if (this.closed) {
      exchange.fail(codeError("the connection pool is closed", "UND_ERR_CLOSED"));
      return false;
    }
    this.send(exchange);
    return true;
  }

  /** Sends on an idle connection, or on a new one. */
  send(exchange: Exchange, fresh = false): void {
    let conn = fresh ? undefined : this.idle.pop();
    while (conn && !conn.usable()) conn = this.idle.pop();
    (conn ?? this.connect()).run(exchange);
  }

  /**
   * A kept-alive connection closed without answering the request sent on it. Right after its
   * last response, that is a server that closes after every response whatever its Keep-Alive
   * header says (llama.cpp's server does, about 0.3 ms after a stream's last chunk): from then on
   * each request gets a new connection, so none goes out on one that is closing. After a long
   * idle spell it is an idle timeout met by chance, and reuse goes on.
   */
  closedUnanswered(idleMs: number): void {
    if (idleMs < 50) this.noReuse = true;
  }

  /** Closes idle connections at once, and the others as their responses end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle) c.socket.destroy();
    this.idle.length = 0;
    await Promise.all(
      [...this.open].map((c) =>
        c.socket.closed ? undefined : new Promise<void>((r) => c.socket.once("close", () => r())),
      ),
    );
  }

  private connect(): Connection {
    const socket: Socket = connect({
      host: this.hostname,
      port: this.port,
      noDelay: true,
      onread: { buffer: this.readBuffer, callback: (n: number, buf: Buffer): boolean => conn.onRead(n, buf) },
    });
    const conn: Connection = new Connection(socket, this);
    this.open.add(conn);
    socket.on("close", () => {
      this.open.delete(conn);
      const at = this.idle.indexOf(conn);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return conn;
  }

  /** Takes back a connection whose response ended whole. */
  release(conn: Connection, head: ResponseHead): void {
    // A server's hint is when it closes: keep a second's margin so a request does not race it.
    const ms = head.keepAliveMs !== undefined ? head.keepAliveMs - 1000 : this.keepAliveMs;
    if (this.closed || this.noReuse || !head.keepAlive || ms <= 0) {
      // The response is whole and nothing more goes on this connection: do not wait on the
      // server to close it (one that never does would hold the process open).
      conn.socket.destroy();
      return;
    }
    conn.idleFor(ms);
    conn.socket.unref(); // an idle connection does not keep the process alive
    this.idle.push(conn);
  }
}

function codeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Undici's connect timeout: a host that does not answer the SYN. */
const CONNECT_TIMEOUT_MS = 10_000;

/** One request and its response, as its handler sees them; settles exactly once. */
class Exchange implements Dispatcher.DispatchController {
  finished = false;
  aborted = false;
  reason: Error | null = null;
  paused = false;
  connection?: Connection;

  constructor(
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: Dispatcher.DispatchHandler,
    /** The request as it goes on the wire: status line, headers and (a text) body. */
    readonly request: string,
    /** A body given as bytes, sent after `request`. */
    readonly bytes: Uint8Array | undefined,
  ) {}

  start(): void {
    this.handler.onRequestStart?.(this, {});
  }

  abort(reason: Error): void {
    if (this.finished) return;
    this.aborted = true;
    this.reason = reason;
    this.connection?.drop(this);
    this.fail(reason);
  }

  /** Stops reading the socket until resume() (a proxy whose client reads slower than the server sends). */
  pause(): void {
    if (this.paused || this.finished) return;
    this.paused = true;
    this.connection?.pauseReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.finished) this.connection?.resumeReading();
  }

  head(h: ResponseHead): void {
    if (!this.finished) this.handler.onResponseStart?.(this, h.status, h.headers, h.statusText);
  }

  data(chunk: Buffer): void {
    if (!this.finished) this.handler.onResponseData?.(this, chunk);
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.handler.onResponseEnd?.(this, {});
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.handler.onResponseError?.(this, err);
  }
}

class Connection implements ResponseSink {
  private exchange?: Exchange;
  /** Responses this connection has carried whole, and whether the current one sent any byte. */
  private served = 0;
  private answered = false;
  private ended = false;
  /** When it last went idle, and when the current request went out (performance clock, ms). */
  private idleSince = 0;
  private sentAt = 0;
  private readonly parser = new Http1ResponseParser(this);
  private head?: ResponseHead;
  private timer?: NodeJS.Timeout;
  /** When the response headers are due, and when the socket last read (performance clock, ms). */
  private headersDue = 0;
  private lastRead = 0;

  constructor(
    readonly socket: Socket,
    private readonly pool: Http1Pool,
  ) {
    socket.on("error", (err) => this.broke(err));
    socket.on("end", () => {
      this.ended = true;
      this.broke(undefined);
    });
    socket.on("close", () => this.broke(undefined));
    const connectTimer = setTimeout(() => {
      if (socket.connecting) this.fail(codeError("Connect Timeout Error", "UND_ERR_CONNECT_TIMEOUT"));
    }, CONNECT_TIMEOUT_MS);
    socket.once("connect", () => clearTimeout(connectTimer));
    socket.once("close", () => clearTimeout(connectTimer));
  }

  /** Whether the connection can carry a request: open, not ended by the server, and free. */
  usable(): boolean {
    return !this.ended && !this.socket.destroyed && this.socket.writable && !this.exchange;
  }

  run(ex: Exchange): void {
    this.sentAt = performance.now();
    clearTimeout(this.timer);
    this.exchange = ex;
    this.answered = false;
    this.head = undefined;
    ex.connection = this;
    this.parser.reset();
    this.socket.ref();
    // Written before the connection is up, it waits in the socket until it is. The wait for
    // the headers starts once the request can go (as undici's does): until then the connect
    // timeout is the one that applies.
    if (ex.bytes) {
      this.socket.cork();
      this.socket.write(ex.request);
      this.socket.write(ex.bytes);
      this.socket.uncork();
    } else this.socket.write(ex.request);
    if (this.socket.connecting) this.socket.once("connect", () => this.awaitHeaders(ex));
    else this.awaitHeaders(ex);
  }

  private awaitHeaders(ex: Exchange): void {
    if (this.exchange !== ex) return;
    this.headersDue = performance.now() + (ex.opts.headersTimeout ?? 300_000);
    this.arm(ex.opts.headersTimeout);
  }

  onRead(n: number, buf: Buffer): boolean {
    const ex = this.exchange;
    if (!ex) {
      // Bytes while no request is out: the server is out of step, and the connection with it.
      this.socket.destroy();
      return false;
    }
    this.lastRead = performance.now();
    this.answered = true;
    try {
      this.parser.feed(buf, 0, n);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    return true;
  }

  /** Its exchange takes no more bytes for now (a slow client behind a proxy): neither does the socket. */
  pauseReading(): void {
    this.socket.pause();
  }

  /** Its exchange reads again: the silence while it was paused was ours, not the server's. */
  resumeReading(): void {
    this.lastRead = performance.now();
    this.socket.resume();
  }

  /** The handler aborted its exchange: this connection cannot carry another. */
  drop(ex: Exchange): void {
    if (this.exchange !== ex) return;
    this.exchange = undefined;
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  /** The socket ended, closed or failed: the response ends with it, whole or cut. */
  private broke(err: Error | undefined): void {
    const ex = this.exchange;
    if (!ex) return;
    if (this.parser.close()) return; // a body that runs to the close has ended whole
    if (this.served > 0 && !this.answered) {
      // A kept-alive connection the server closed as the request went out: nothing was
      // answered, so the request goes again, once, on a new connection (as browsers do).
      this.exchange = undefined;
      clearTimeout(this.timer);
      this.socket.destroy();
      this.pool.closedUnanswered(this.sentAt - this.idleSince);
      this.pool.send(ex, true);
      return;
    }
    const cut = this.parser.headRead ? "other side closed" : "other side closed before the response";
    this.fail(err ?? codeError(cut, "UND_ERR_SOCKET"));
  }

  private fail(err: Error): void {
    const ex = this.exchange;
    this.exchange = undefined;
    clearTimeout(this.timer);
    this.socket.destroy();
    ex?.fail(err);
  }

  onHead(h: ResponseHead): void {
    this.head = h;
    this.arm(this.exchange?.opts.bodyTimeout);
    this.exchange?.head(h);
  }

  onBody(chunk: Buffer): void {
    this.exchange?.data(chunk);
  }

  onEnd(): void {
    const ex = this.exchange;
    const head = this.head;
    this.exchange = undefined;
    clearTimeout(this.timer);
    this.served++;
    // Paused by a handler as its last bytes came: the next request must be read again.
    if (ex?.paused) this.socket.resume();
    ex?.end();
    if (head) this.pool.release(this, head);
  }

  private arm(ms: number | null | undefined): void {
    clearTimeout(this.timer);
    const wait = ms ?? 300_000;
    this.timer = wait > 0 ? setTimeout(() => this.checkTimeouts(), wait) : undefined;
  }

  /**
   * One timer per wait instead of a reset on every read: when it fires it looks at the last read,
   * and sleeps on for the rest if there was one since.
   */
  private checkTimeouts(): void {
    const ex = this.exchange;
    if (!ex) return;
    const now = performance.now();
    // Paused, the body cannot time out: nothing is read, by our choice.
    const from = this.head && ex.paused ? now : this.lastRead;
    const due = this.head ? from + (ex.opts.bodyTimeout ?? 300_000) : this.headersDue;
    if (due - now > 1) {
      this.timer = setTimeout(() => this.checkTimeouts(), due - now);
      return;
    }
    if (this.head) this.fail(codeError("Body Timeout Error", "UND_ERR_BODY_TIMEOUT"));
    else this.fail(codeError("Headers Timeout Error", "UND_ERR_HEADERS_TIMEOUT"));
  }

  /** Kept for the next request until `ms` of silence, then closed. */
  idleFor(ms: number): void {
    this.idleSince = performance.now();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.socket.destroy(), ms);
    this.timer.unref();
  }
}

function requestText(opts: Dispatcher.DispatchOptions, host: string): string {
  if (opts.body != null && typeof opts.body !== "string" && !(opts.body instanceof Uint8Array))
    throw codeError("the request body must be text or bytes", "UND_ERR_INVALID_ARG");
  const body = typeof opts.body === "string" ? opts.body : "";
  const length = opts.body instanceof Uint8Array ? opts.body.byteLength : Buffer.byteLength(body);
  let text = `${opts.method} ${opts.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  const headers = (opts.headers ?? {}) as Record<string, string | string[]>;
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) text += headerLine(name, v);
    else text += headerLine(name, String(value));
  }
  return `${text}content-length: ${length}\r\n\r\n${body}`;
}

function headerLine(name: string, value: string): string {
  // A line break in a value (a key read with its newline) would split the request.
  if (/[\r\n\0]/.test(value)) throw codeError(`invalid ${name} header value`, "UND_ERR_INVALID_ARG");
  return `${name}: ${value}\r\n`;
}

/** A body given as bytes goes on the wire as they are, after the head. */
function bufferBody(body: Dispatcher.DispatchOptions["body"]): Uint8Array | undefined {
  return body instanceof Uint8Array && body.byteLength > 0 ? body : undefined;
}
