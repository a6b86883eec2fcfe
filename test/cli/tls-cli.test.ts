import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, benchRun, onlyRunDir } from "../helpers/checked-run.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { chat } from "../helpers/scheduled-server.js";
import { type SelfSigned, selfSignedCert } from "../helpers/tls.js";

const SMALL = ["--model", "m", "-c", "1", "-n", "2", "--warmup", "0", "--baseline", "0", "-q"];

describe("an https endpoint with a self-signed certificate", () => {
  let cert: SelfSigned;
  let server: Server;
  let url: string;
  before(async () => {
    cert = selfSignedCert();
    server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.url?.endsWith("/models")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ object: "list", data: [{ id: "m" }] }));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(
          [chat.role(), chat.token("a"), chat.token("b", "stop"), "[DONE]"]
            .map((d) => `data: ${d}\n\n`)
            .join(""),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("is refused with the TLS cause named and the fix given, exit 3", async () => {
    for (const cmd of [
      ["bench", ...SMALL, "--out", tempDir()],
      ["probe", "--model", "m"],
    ]) {
      const r = await runCli([...cmd, "--url", url]);
      assertCleanExit(r, 3);
      const line = r.stderr.trim();
      assert.equal(line.split("\n").length, 1, r.stderr);
      assert.match(
        line,
        /TLS failed: the server's certificate is self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      );
      assert.match(line, /--ca-file/);
      assert.match(line, /NODE_EXTRA_CA_CERTS/);
      assert.doesNotMatch(line, /Is the server running/);
    }
  });

  it("--ca-file trusts it, and so does NODE_EXTRA_CA_CERTS", async () => {
    const run = await benchRun(["--url", url, ...SMALL, "--ca-file", cert.certFile], tempDir());
    assertCleanExit(run, 0);
    assert.equal(run.records.filter((r) => r.outcome === "ok").length, 2);
    const env = await benchRun(["--url", url, ...SMALL], tempDir(), { NODE_EXTRA_CA_CERTS: cert.certFile });
    assertCleanExit(env, 0);
    const probe = await runCli(["probe", "--url", url, "--model", "m", "--ca-file", cert.certFile]);
    assertCleanExit(probe, 0);
    assert.match(probe.stdout, /tls handshake +\d/);
  });

  it("--insecure works, says so, and the run records it", async () => {
    const out = tempDir();
    const run = await benchRun(["--url", url, ...SMALL, "--insecure"], out);
    assertCleanExit(run, 0);
    assert.match(run.stderr, /warning: --insecure: the server's TLS certificate is not verified/);
    const info = JSON.parse(readFileSync(join(onlyRunDir(out), "run.json"), "utf8"));
    assert.equal(info.config.insecure, true);
  });

  it("bad TLS flags exit 2 with one line", async () => {
    const http = await runCli(["bench", "--url", "http://127.0.0.1:9/v1", "--insecure"]);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /--insecure applies to an https --url/);
    const notPem = join(tempDir(), "x.txt");
    writeFileSync(notPem, "hello");
    const bad = await runCli(["bench", "--url", url, "--ca-file", notPem]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /holds no PEM certificate/);
  });
});
