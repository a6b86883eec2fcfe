import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyStream } from "../../src/core/outcome.js";
import { REDACTED, redactSecret } from "../../src/core/redact.js";
import { MAX_EVENT_CHARS, StreamAccumulator } from "../../src/core/stream-accumulator.js";
import { chat } from "../helpers/scheduled-server.js";

const bytes = (s: string) => Buffer.from(s);

describe("the stream accumulator under hostile input", () => {
  it("an event cut off by a break is dropped; after a clean end it is parsed", () => {
    const body = `data: ${chat.token("a")}\n\ndata: {"choices":[{"delta":{"content":"b`;
    const broken = new StreamAccumulator();
    broken.push(bytes(body), 1);
    const cut = broken.end(2, false);
    assert.equal(cut.invalidEvents, 0);
    assert.equal(classifyStream(cut, { code: "stream_reset", message: "reset" }).error?.code, "stream_reset");
    const clean = new StreamAccumulator();
    clean.push(bytes(body), 1);
    assert.equal(clean.end(2).invalidEvents, 1, "a clean end with half an event is the server's garbage");
  });

  it("one line without end stops being held past MAX_EVENT_CHARS, and pushing on never throws", () => {
    const acc = new StreamAccumulator();
    acc.push(bytes(`data: ${chat.token("a")}\n\ndata: {"x":"`), 1);
    const block = bytes("y".repeat(1024 * 1024));
    for (let i = 0; i <= MAX_EVENT_CHARS / block.length; i++) acc.push(block, 2);
    assert.equal(acc.summary.oversized, true);
    acc.push(bytes("\n\ndata: [DONE]\n\n"), 3); // ignored, not thrown
    const s = acc.end(4);
    assert.equal(s.chunkTimesMs.length, 1);
    assert.equal(classifyStream(s).error?.code, "response_too_large");
  });

  it("events of many lines count as one event towards the bound", () => {
    const acc = new StreamAccumulator(false, 1000);
    for (let i = 0; i < 20; i++) acc.push(bytes(`data: ${"z".repeat(60)}\n`), i);
    assert.equal(acc.summary.oversized, true);
  });
});

describe("redactSecret", () => {
  const key = "sk-abcdef0123456789";
  it("replaces every occurrence", () => {
    assert.equal(redactSecret(`${key} and ${key}`, key), `${REDACTED} and ${REDACTED}`);
  });
  it("in a cut excerpt, also a start of the key at the very end", () => {
    assert.equal(redactSecret(`key: ${key.slice(0, 9)}`, key, true), `key: ${REDACTED}`);
    assert.equal(redactSecret(`key: ${key.slice(0, 9)}`, key), `key: ${key.slice(0, 9)}`);
  });
  it("leaves text without the key, and keys too short to be one, alone", () => {
    assert.equal(redactSecret("nothing here", key, true), "nothing here");
    assert.equal(redactSecret("a b c", "a"), "a b c");
    assert.equal(redactSecret("text", undefined), "text");
  });
});
