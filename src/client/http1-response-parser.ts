/**
 * An incremental HTTP/1.1 response reader for the generation client's own connections: the status
 * line and headers, then the body by its framing (chunked, Content-Length, or to the close),
 * handed on as views into the bytes fed, without copying. Framing facts follow RFC 9112 (sections
 * 6 and 7); a response that breaks them is an error with a code transport-errors.ts knows.
 */

export type Framing = "chunked" | "length" | "close" | "none";

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Lower-case names; a repeated header's values in an array. */
  headers: Record<string, string | string[]>;
  framing: Framing;
  /** Whether the connection may carry another request once this response is over. */
  keepAlive: boolean;
  /** The server's Keep-Alive timeout hint, ms, when it gave one. */
  keepAliveMs?: number;
}

export interface ResponseSink {
  onHead(head: ResponseHead): void;
  /** A view into the fed bytes: valid only during the call. */
  onBody(chunk: Buffer): void;
  onEnd(): void;
}

export class ResponseParseError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Node's default limit on the size of a message head (http.maxHeaderSize). */
export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_SIZE_LINE = 1024;
const MAX_INTERIM = 10;
const CR = 13;
const LF = 10;

enum State {
  Head,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Length,
  Close,
  Done,
}

export class Http1ResponseParser {
  private state = State.Head;
  private head = Buffer.allocUnsafe(1024);
  private headLength = 0;
  private line = "";
  /** Bytes left in the current chunk, or of a Content-Length body. */
  private remaining = 0;
  private ended = false;
  private interim = 0;
  private trailerBytes = 0;

  constructor(private readonly sink: ResponseSink) {}

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.state = State.Head;
    this.headLength = 0;
    this.line = "";
    this.remaining = 0;
    this.ended = false;
    this.interim = 0;
    this.trailerBytes = 0;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Whether the response head has been read. */
  get headRead(): boolean {
    return this.state !== State.Head;
  }

  /** Reads `buf[start, end)`; throws ResponseParseError on a broken response. */
  feed(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && this.state !== State.Done) {
      switch (this.state) {
        case State.Head:
          i = this.readHead(buf, i, end);
          break;
        case State.ChunkSize:
        case State.ChunkDataEnd:
        case State.Trailers:
          i = this.readLine(buf, i, end);
          break;
        case State.ChunkData:
        case State.Length: {
          const n = Math.min(this.remaining, end - i);
          this.sink.onBody(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining > 0) break;
          if (this.state === State.Length) this.finish();
          else this.state = State.ChunkDataEnd;
          break;
        }
        case State.Close:
          this.sink.onBody(buf.subarray(i, end));
          i = end;
          break;
      }
    }
  }

  /**
   * The connection closed: a body that runs to the close ends here; anything else was cut short.
   * Returns whether the response was whole.
   */
  close(): boolean {
    if (this.state === State.Close) {
      this.finish();
      return true;
    }
    return this.state === State.Done;
  }

  private finish(): void {
    this.state = State.Done;
    if (!this.ended) {
      this.ended = true;
      this.sink.onEnd();
    }
  }

  private readHead(buf: Buffer, start: number, end: number): number {
    // Copy what may be head into this.head, then look for the blank line that ends it.
    const from = Math.max(0, this.headLength - 3);
    const take = Math.min(end - start, MAX_HEAD_BYTES + 4 - this.headLength);
    if (this.headLength + take > this.head.length) {
      const bigger = Buffer.allocUnsafe(Math.min(MAX_HEAD_BYTES + 4, (this.headLength + take) * 2));
      this.head.copy(bigger, 0, 0, this.headLength);
      this.head = bigger;
    }
    buf.copy(this.head, this.headLength, start, start + take);
    this.headLength += take;
    // Not an HTTP response at all (an HTML page, TLS, garbage): say so now, not at a timeout.
    const seen = Math.min(this.headLength, 5);
    if (this.head.toString("latin1", 0, seen) !== "HTTP/".slice(0, seen)) {
      const first = this.head.toString("latin1", 0, Math.min(this.headLength, 40)).split(/\r?\n/)[0];
      throw new ResponseParseError(`not an HTTP/1.x response: "${first}"`, "HPE_INVALID_CONSTANT");
    }
    // The blank line that ends the head; a bare LF for CRLF is accepted (RFC 9112, 2.2).
    const view = this.head.subarray(0, this.headLength);
    const crlf = view.indexOf("\r\n\r\n", from);
    const lf = view.indexOf("\n\n", from);
    const at = lf >= 0 && (crlf < 0 || lf < crlf) ? lf : crlf;
    const blank = at === lf ? 2 : 4;
    if (at < 0) {
      if (this.headLength > MAX_HEAD_BYTES) {
        throw new ResponseParseError(
          `response headers over ${MAX_HEAD_BYTES} bytes`,
          "UND_ERR_HEADERS_OVERFLOW",
        );
      }
      return start + take;
    }
    const headEnd = at + blank;
    const consumed = start + take - (this.headLength - headEnd);
    const text = this.head.toString("latin1", 0, at);
    this.headLength = 0;
    const head = parseHead(text);
    // 100 Continue, 102, 103: the answer follows (101 is an answer: no upgrade was asked for).
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      if (++this.interim > MAX_INTERIM) {
        throw new ResponseParseError(`more than ${MAX_INTERIM} interim responses`, "HPE_INVALID_CONSTANT");
      }
      return consumed;
    }
    this.sink.onHead(head);
    switch (head.framing) {
      case "chunked":
        this.state = State.ChunkSize;
        break;
      case "length":
        this.remaining = Number(head.headers["content-length"]);
        if (this.remaining === 0) this.finish();
        else this.state = State.Length;
        break;
      case "close":
        this.state = State.Close;
        break;
      case "none":
        this.finish();
        break;
    }
    return consumed;
  }

  /** Reads up to a line end in the chunked framing (size lines, the CRLF after data, trailers). */
  private readLine(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && buf[i] !== LF) i++;
    if (this.line.length + (i - start) > MAX_SIZE_LINE) {
      throw new ResponseParseError("a chunk-size or trailer line too long", "HPE_CHUNK_EXTENSIONS_OVERFLOW");
    }
    this.line += buf.toString("latin1", start, i);
    if (i === end) return end;
    let line = this.line;
    if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    this.line = "";
    this.onLine(line);
    return i + 1;
  }

  private onLine(line: string): void {
    if (this.state === State.ChunkDataEnd) {
      if (line !== "") throw new ResponseParseError("no line end after chunk data", "HPE_STRICT");
      this.state = State.ChunkSize;
      return;
    }
    if (this.state === State.Trailers) {
      this.trailerBytes += line.length;
      if (line === "") this.finish();
      else if (this.trailerBytes > MAX_HEAD_BYTES) {
        throw new ResponseParseError(`trailers over ${MAX_HEAD_BYTES} bytes`, "UND_ERR_HEADERS_OVERFLOW");
      }
      return;
    }
    const semi = line.indexOf(";");
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
      throw new ResponseParseError(`invalid chunk size "${hex.slice(0, 20)}"`, "HPE_INVALID_CHUNK_SIZE");
    }
    const size = Number.parseInt(hex, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!status) {
    throw new ResponseParseError(
      `not an HTTP/1.x status line: "${(lines[0] ?? "").slice(0, 40)}"`,
      "HPE_INVALID_CONSTANT",
    );
  }
  const headers: Record<string, string | string[]> = {};
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k] as string;
    const colon = l.indexOf(":");
    if (colon <= 0)
      throw new ResponseParseError(`invalid header line "${l.slice(0, 40)}"`, "HPE_INVALID_HEADER_TOKEN");
    const name = l.slice(0, colon).trim().toLowerCase();
    const value = l.slice(colon + 1).trim();
    const had = headers[name];
    if (had === undefined) headers[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else headers[name] = [had, value];
  }
  const code = Number(status[2]);
  const one = (name: string) => {
    const v = headers[name];
    return (Array.isArray(v) ? v.join(", ") : (v ?? "")).toLowerCase();
  };
  const connection = one("connection");
  let keepAlive = status[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
  let framing: Framing;
  if (code === 101) {
    framing = "none"; // an upgrade nobody asked for: the answer, and the end of the connection
    keepAlive = false;
  } else if (code === 204 || code === 304 || code < 200) framing = "none";
  else if (headers["transfer-encoding"] !== undefined) {
    // Chunked only when it is the last coding; otherwise the body runs to the close (RFC 9112, 6.3).
    framing = /(^|,)\s*chunked\s*$/.test(one("transfer-encoding")) ? "chunked" : "close";
    if (framing === "close") keepAlive = false;
  } else if (headers["content-length"] !== undefined) {
    const cl = one("content-length");
    if (!/^\d{1,15}$/.test(cl))
      throw new ResponseParseError(`invalid content-length "${cl}"`, "HPE_INVALID_CONTENT_LENGTH");
    framing = "length";
    headers["content-length"] = cl;
  } else {
    framing = "close";
    keepAlive = false;
  }
  const hint = /timeout=(\d+)/.exec(one("keep-alive"));
  return {
    status: code,
    statusText: status[3] ?? "",
    headers,
    framing,
    keepAlive,
    keepAliveMs: hint ? Number(hint[1]) * 1000 : undefined,
  };
}
