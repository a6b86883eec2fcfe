import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Http1ResponseParser,
  MAX_HEAD_BYTES,
  type ResponseHead,
  ResponseParseError,
} from "../../src/client/http1-response-parser.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

interface Seen {
  heads: ResponseHead[];
  body: Buffer[];
  ends: number;
  /** How many bytes had been fed when the response ended. */
  endedAt?: number;
}

/** Feeds `bytes` cut at `cuts` (positions, any order), copying each body view as it comes. */
function parse(bytes: Buffer, cuts: number[], closeAtEnd = false): Seen & { parser: Http1ResponseParser } {
  let fed = 0;
  const seen: Seen = { heads: [], body: [], ends: 0 };
  const parser = new Http1ResponseParser({
    onHead: (h) => seen.heads.push(h),
    onBody: (c) => seen.body.push(Buffer.from(c)),
    onEnd: () => {
      seen.ends++;
      seen.endedAt = fed;
    },
  });
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    // Each piece sits at an offset inside a larger buffer, as a read into a shared buffer does.
    const host = Buffer.alloc(to - from + 8, 0x7e);
    bytes.copy(host, 4, from, to);
    fed = to;
    parser.feed(host, 4, 4 + to - from);
    from = to;
  }
  if (closeAtEnd) parser.close();
  return Object.assign(seen, { parser }); // live: close() may still end it
}

const bodyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

/** A body cut into chunks at the given sizes, framed the chunked way, with optional extensions. */
function chunkedBody(body: Buffer, sizes: number[], ext: boolean, trailer: boolean): string {
  let out = "";
  let at = 0;
  for (const s of sizes) {
    if (at >= body.length) break;
    const part = body.subarray(at, at + Math.max(1, s));
    at += part.length;
    out += `${part.length.toString(16)}${ext ? ';name="v"' : ""}\r\n${part.toString("latin1")}\r\n`;
  }
  if (at < body.length)
    out += `${(body.length - at).toString(16)}\r\n${body.subarray(at).toString("latin1")}\r\n`;
  return `${out}0\r\n${trailer ? "x-trailer: t\r\n" : ""}\r\n`;
}

describe("Http1ResponseParser", () => {
  it("reads a chunked body whole, however the bytes are cut", () => {
    fc.assert(
      fc.property(
        bodyBytes,
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        (body, sizes, ext, trailer, interim, cuts) => {
          const head =
            (interim ? "HTTP/1.1 100 Continue\r\n\r\n" : "") +
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
          const bytes = Buffer.from(head + chunkedBody(body, sizes, ext, trailer), "latin1");
          const extra = Buffer.from("HTTP/1.1 200 OK\r\n"); // what follows belongs to no one here
          const seen = parse(Buffer.concat([bytes, extra]), cuts);
          assert.equal(seen.heads.length, 1);
          assert.equal(seen.heads[0]?.status, 200);
          assert.equal(seen.heads[0]?.framing, "chunked");
          assert.equal(seen.heads[0]?.keepAlive, true);
          assert.deepEqual(Buffer.concat(seen.body), body);
          assert.equal(seen.ends, 1);
          assert.ok(seen.parser.done);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("reads a Content-Length body to its length, and a body without one to the close", () => {
    fc.assert(
      fc.property(bodyBytes, fc.array(fc.nat(), { maxLength: 8 }), (body, cuts) => {
        const sized = Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`),
          body,
        ]);
        const a = parse(sized, cuts);
        assert.deepEqual(Buffer.concat(a.body), body);
        assert.equal(a.ends, 1);
        assert.equal(a.endedAt, sized.length, "ends on its last byte, not at the close");
        assert.equal(a.heads[0]?.keepAlive, false);

        const open = Buffer.concat([
          Buffer.from("HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"),
          body,
        ]);
        const b = parse(open, cuts);
        assert.equal(b.ends, 0, "no end before the close");
        assert.equal(b.parser.close(), true);
        assert.equal(b.ends, 1);
        assert.deepEqual(Buffer.concat(b.body), body);
        assert.equal(b.heads[0]?.framing, "close");
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("a chunked body cut by the close is not whole", () => {
    const bytes = Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel");
    const seen = parse(bytes, []);
    assert.equal(seen.parser.close(), false);
    assert.equal(seen.ends, 0);
    assert.equal(Buffer.concat(seen.body).toString(), "hel");
  });

  it("keeps repeated headers, the Keep-Alive hint, and ends 204 and 304 at once", () => {
    const seen = parse(
      Buffer.from(
        "HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nKeep-Alive: timeout=5, max=100\r\n\r\n",
      ),
      [],
    );
    assert.deepEqual(seen.heads[0]?.headers["set-cookie"], ["a=1", "b=2"]);
    assert.equal(seen.heads[0]?.keepAliveMs, 5000);
    assert.equal(seen.heads[0]?.statusText, "No Content");
    assert.equal(seen.ends, 1);
  });

  it("takes bare LF line ends, a coding after chunked as read-to-close, and 101 as an answer", () => {
    const lf = parse(Buffer.from("HTTP/1.1 200 OK\ncontent-length: 2\n\nhi"), []);
    assert.equal(lf.heads[0]?.headers["content-length"], "2");
    assert.equal(Buffer.concat(lf.body).toString(), "hi");
    const gz = parse(Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nraw"), []);
    assert.equal(gz.heads[0]?.framing, "close");
    assert.equal(gz.heads[0]?.keepAlive, false);
    const upgrade = parse(Buffer.from("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n"), []);
    assert.equal(upgrade.heads[0]?.status, 101);
    assert.equal(upgrade.ends, 1);
  });

  it("rejects what is not HTTP/1.x, with the codes the error classes know", () => {
    const code = (text: string) => {
      try {
        parse(Buffer.from(text), []);
      } catch (err) {
        assert.ok(err instanceof ResponseParseError);
        return err.code;
      }
      return "none";
    };
    assert.equal(code("<html>hello</html>\r\n\r\n"), "HPE_INVALID_CONSTANT");
    assert.equal(code("<!doctype html>"), "HPE_INVALID_CONSTANT", "at once, not after the blank line");
    assert.equal(code("HTTP/1.1 100 Continue\r\n\r\n".repeat(11)), "HPE_INVALID_CONSTANT");
    const trailers = `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n${"x-t: 1\r\n".repeat(3000)}`;
    assert.equal(code(trailers), "UND_ERR_HEADERS_OVERFLOW");
    assert.equal(
      code("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"),
      "HPE_INVALID_CHUNK_SIZE",
    );
    assert.equal(code("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY\r\n"), "HPE_STRICT");
    assert.equal(code("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"), "HPE_INVALID_CONTENT_LENGTH");
    assert.equal(code("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN");
    const endless = `HTTP/1.1 200 OK\r\n${"x-filler: f\r\n".repeat(MAX_HEAD_BYTES / 10)}`;
    assert.equal(code(endless), "UND_ERR_HEADERS_OVERFLOW");
    assert.equal(
      code(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${"1".repeat(2000)}`),
      "HPE_CHUNK_EXTENSIONS_OVERFLOW",
    );
  });
});
