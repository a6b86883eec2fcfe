import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import { describe, it } from "node:test";
import { request } from "undici";
import { collect, runCli, spawnCli } from "../helpers/cli.js";
import { chat, evenStream, modelList, startScheduledServer } from "../helpers/scheduled-server.js";

describe("streamslo probe", () => {
  it("prints one request's timeline against the embedded simulator", async () => {
    const r = await runCli(["probe", "--sim-preset", "fast", "--max-tokens", "12"]);
    assert.equal(r.code, 0, r.stderr);
    for (const step of [
      "dns lookup",
      "tcp connect",
      "tls handshake",
      "request sent",
      "response headers",
      "first token",
      "last token",
      "stream end",
    ]) {
      assert.match(r.stdout, new RegExp(`^  ${step}`, "m"), step);
    }
    assert.match(r.stdout, /IP address: no lookup/);
    assert.match(r.stdout, /prompt \d+ tokens; output 12 \(usage\) in 12 chunks; status 200; ok/);
  });

  it("--repeat --json gives each probe in order and the medians", async () => {
    const r = await runCli(["probe", "--sim-preset", "fast", "--max-tokens", "8", "--repeat", "3", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.probes.length, 3);
    for (const p of doc.probes) {
      assert.ok(p.connectMs <= p.sentMs, "connected before sending");
      assert.ok(p.sentMs <= p.headersMs, "sent before headers");
      assert.ok(p.headersMs <= p.firstContentMs, "headers before the first token");
      assert.ok(p.firstContentMs <= p.lastContentMs && p.lastContentMs <= p.endMs);
      assert.equal(p.outputTokens, 8);
    }
    assert.equal(typeof doc.medians.firstContentMs, "number");
  });

  it("Ctrl-C: the probe in flight is cut short, and the probes so far are printed; exit 130", async () => {
    let posts = 0;
    const server = await startScheduledServer((req) => {
      if (req.url?.endsWith("/models")) return modelList("m");
      posts++;
      // The first answer is whole; the second sends a token and then nothing more.
      return posts === 1
        ? { writes: evenStream(5, 5, 3) }
        : { writes: [{ atMs: 5, data: chat.token("x", null) }], finish: "hang" };
    });
    try {
      const child = spawnCli(["probe", "--url", server.url, "--repeat", "3"]);
      const done = collect(child);
      const deadline = Date.now() + 20_000;
      while (posts < 2 && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(posts, 2, "the second probe is in flight");
      await new Promise((r) => setTimeout(r, 200)); // its first token has arrived
      child.kill("SIGINT");
      const r = await done;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /interrupted: cutting the probe short/);
      assert.match(r.stdout, /^#1[\s\S]*output 3 \(usage\) in 3 chunks; status 200; ok$/m);
      assert.match(
        r.stdout,
        /^#2[\s\S]* {2}first token +\d+\.\d\d ms[\s\S]*; aborted \(aborted: aborted by the user\)$/m,
      );
      assert.doesNotMatch(r.stdout, /^#3/m);
      assert.match(r.stdout, /^median of 1 \(1 not ok, left out\)$/m);
    } finally {
      await server.close();
    }
  });

  it("--repeat over probes that all failed says so beside the medians, and exits 3", async () => {
    const server = await startScheduledServer((req) =>
      req.url?.endsWith("/models")
        ? modelList("m")
        : {
            status: 503,
            headers: { "content-type": "application/json" },
            writes: [{ atMs: 0, raw: '{"error":{"message":"overloaded"}}' }],
          },
    );
    try {
      const r = await runCli(["probe", "--url", server.url, "--repeat", "3"]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stdout, /^median of 3 failed probes \(not one succeeded\)/m);
      assert.doesNotMatch(r.stdout, /^median of 3$/m);
      assert.match(r.stderr, /the probe failed: http_503: HTTP 503: overloaded/);
      const json = JSON.parse(
        (await runCli(["probe", "--url", server.url, "--repeat", "2", "--json"])).stdout,
      );
      assert.equal(json.medians_of, "failed");
    } finally {
      await server.close();
    }
  });

  it("resolves localhost through DNS and exits 3 when nothing listens", async () => {
    const r = await runCli(["probe", "--url", "http://localhost:9/v1"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot reach http:\/\/localhost:9\/v1/);
  });

  it("refuses simulator faults with --url (there is no simulator to fault), exit 2", async () => {
    const r = await runCli(["probe", "--url", "http://localhost:9/v1", "--fault-drop", "1"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^streamslo: --fault-drop applies to the embedded simulator, not to --url: drop it\n$/,
    );
  });
});

describe("streamslo sim", () => {
  it("serves the OpenAI API standalone until SIGTERM", async () => {
    const child = spawnCli(["sim", "--listen", "127.0.0.1:0", "--sim-preset", "fast"]);
    const done = collect(child);
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      child.stdout?.on("data", (d: Buffer) => {
        seen += d.toString();
        const m = /listening on (http:\/\/\S+\/v1)/.exec(seen);
        if (m) resolve(m[1] as string);
      });
      child.on("close", () => reject(new Error(`sim exited: ${seen}`)));
    });
    const res = await request(`${url}/completions`, {
      method: "POST",
      body: JSON.stringify({ prompt: "hi", max_tokens: 5, stream: true }),
    });
    const text = await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "text/event-stream");
    assert.equal((text.match(/"text":/g) ?? []).length, 5);
    assert.match(text, /data: \[DONE\]\n\n$/);
    const bench = await runCli([
      "bench",
      "--url",
      url,
      "-c",
      "2",
      "-n",
      "4",
      "--json",
      "--out",
      "/tmp/streamslo-sim-test",
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    assert.equal(JSON.parse(bench.stdout).levels[0].ok, 4);
    child.kill("SIGTERM");
    const r = await done;
    assert.equal(r.code, 0);
  });

  it("refuses a bad --listen with exit 2", async () => {
    const r = await runCli(["sim", "--listen", "nope"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected HOST:PORT/);
    // A port already taken: one line, not a stack trace.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const busy = await runCli(["sim", "--listen", `127.0.0.1:${port}`], {}, 20_000);
      assert.equal(busy.code, 2, busy.stderr);
      assert.equal(
        busy.stderr,
        `streamslo: cannot listen on 127.0.0.1:${port}: EADDRINUSE; choose another --listen\n`,
      );
    } finally {
      taken.close();
    }
  });
});
