import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, benchRun } from "../helpers/checked-run.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { type HostileServer, respond, sse, sseHead, startHostileServer } from "../helpers/hostile-server.js";
import { chat } from "../helpers/scheduled-server.js";

/** What a hostile server puts in its text: a fake second line and traceback, a screen clear, a window title. */
const NASTY =
  "boom\n    at Object.<anonymous> (/app/server.js:1:1)\r\n\u001b[2J\u001b]0;owned\u0007\u202eevil";

const SMALL = ["--model", "m", "-c", "1", "-n", "3", "--warmup", "0", "--baseline", "0", "-q"];

function assertSafe(text: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what must not reach a terminal.
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/, JSON.stringify(text));
  assert.doesNotMatch(text, /\n\s+at /, "no fake traceback line");
}

describe("text that comes from a server is shown on one safe line, and kept whole in the records", () => {
  let body: HostileServer;
  let inband: HostileServer;
  before(async () => {
    body = await startHostileServer((s) => respond(s, 200, "text/plain", NASTY));
    inband = await startHostileServer((s) => {
      sseHead(s);
      s.write(sse(chat.role()));
      s.end(sse(JSON.stringify({ error: { message: NASTY } })));
    });
  });
  after(async () => {
    await body.close();
    await inband.close();
  });

  it("bench: the quoted start of a body that is not SSE", async () => {
    const run = await benchRun(["--url", body.url, ...SMALL], tempDir());
    assertCleanExit(run, 3);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assertSafe(run.stderr);
    assert.match(lines[0] ?? "", /got "boom at Object/, "the break folded");
    assert.match(lines[0] ?? "", /\\x1b\[2J/);
    // The record keeps what the server sent (JSON-escaped on disk, whole when read back).
    assert.ok(
      (run.records[0]?.error?.message ?? "").includes("\u001b[2J"),
      "the escape kept raw in the record",
    );
  });

  it("probe: an in-band error event", async () => {
    const r = await runCli(["probe", "--url", inband.url, "--model", "m"]);
    assertSafe(r.stdout);
    assertSafe(r.stderr);
    assert.match(r.stdout + r.stderr, /stream_error: boom\\n/);
  });

  it("bench --json: the JSON on stdout stays JSON, the text in it escaped", async () => {
    const run = await benchRun(["--url", inband.url, ...SMALL, "--json"], tempDir());
    assertCleanExit(run, 4);
    assertSafe(run.stderr);
    JSON.parse(run.stdout);
  });
});
