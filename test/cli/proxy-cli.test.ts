import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { collect, runCli, spawnCli } from "../helpers/cli.js";

const SLO = fileURLToPath(new URL("../../../examples/slo-production.yaml", import.meta.url));

/** Starts the proxy (nothing listens upstream: only its start-up is under test), stops it, returns stderr. */
async function startLine(...args: string[]): Promise<string> {
  return startLineWith({}, ...args);
}

async function startLineWith(env: Record<string, string>, ...args: string[]): Promise<string> {
  const proxy = spawnCli(
    [
      "proxy",
      "--upstream",
      "http://127.0.0.1:9",
      "--listen",
      "127.0.0.1:0",
      "--admin-listen",
      "127.0.0.1:0",
      ...args,
    ],
    env,
  );
  const done = collect(proxy);
  await new Promise<void>((resolve) => {
    let seen = "";
    proxy.stderr?.on("data", (d: Buffer) => {
      seen += d.toString();
      if (seen.includes("metrics at")) resolve();
    });
  });
  proxy.kill("SIGTERM");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

/** Starts the proxy in front of `upstream` and resolves with its URL and the child, once it listens. */
async function runningProxy(upstream: string, ...args: string[]) {
  const proxy = spawnCli([
    "proxy",
    "--upstream",
    upstream,
    "--listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
    ...args,
  ]);
  const done = collect(proxy);
  const url = await new Promise<string>((resolve) => {
    let seen = "";
    proxy.stderr?.on("data", (d: Buffer) => {
      seen += d.toString();
      const m = /streamslo proxy: (http:\/\/\S+) ->/.exec(seen);
      if (m) resolve(m[1] as string);
    });
  });
  const stop = () => {
    proxy.kill("SIGTERM");
    return done;
  };
  return { url, stop };
}

describe("streamslo proxy from the command line", () => {
  it("--max-request-mb sets the largest request body it relays (default 8 MiB, then 413)", async () => {
    const upstream = createHttpServer((req, res) => {
      let n = 0;
      req.on("data", (c: Buffer) => {
        n += c.length;
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ received: n, choices: [{ index: 0, message: { content: "ok" } }] }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    // A chat request with a 10 MiB base64 image in it.
    const body = JSON.stringify({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            {
              type: "image_url",
              image_url: { url: `data:image/png;base64,${"A".repeat(10 * 1024 * 1024)}` },
            },
          ],
        },
      ],
    });
    const send = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    try {
      const small = await runningProxy(origin, "--models", "m");
      const refused = await send(small.url);
      assert.equal(refused.status, 413);
      assert.match(await refused.text(), /request body over 8388608 bytes/);
      await small.stop();
      const big = await runningProxy(origin, "--models", "m", "--max-request-mb", "12");
      const relayed = await send(big.url);
      assert.equal(relayed.status, 200);
      assert.equal(((await relayed.json()) as { received: number }).received, Buffer.byteLength(body));
      const r = await big.stop();
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await new Promise((r) => upstream.close(r));
    }
    const bad = await runCli(["proxy", "--upstream", origin, "--max-request-mb", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-request-mb/);
  });

  it("labels its series with the SLO file's service unless told otherwise, and warns on a mismatch", async () => {
    const fromSlo = await startLine("--slo", SLO);
    assert.match(fromSlo, /\(service chat-assistant\)/);
    assert.doesNotMatch(fromSlo, /warning/);

    const mismatch = await startLine("--slo", SLO, "--service", "chat");
    assert.match(mismatch, /\(service chat\)/);
    assert.match(mismatch, /warning: --service chat, but .*select service="chat-assistant": drop --service/);

    assert.match(await startLine(), /\(service streamslo\)/);
  });

  it("bad input exits 2 with one line, and a failed listen leaves no process serving", async () => {
    const base = ["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"];
    const log = await runCli([
      ...base,
      "--admin-listen",
      "127.0.0.1:0",
      "--log-file",
      "/nonexistent-dir/log.jsonl",
    ]);
    assert.equal(log.code, 2);
    assert.match(
      log.stderr,
      /^streamslo: cannot write --log-file \/nonexistent-dir\/log\.jsonl: no such file or folder \(ENOENT\); check the path\n$/,
    );
    // A path in --upstream would be dropped: each request goes on its own path.
    for (const url of ["http://127.0.0.1:9/v1", "http://127.0.0.1:9/gateway/llm"]) {
      const r = await runCli([
        "proxy",
        "--upstream",
        url,
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
      ]);
      assert.equal(r.code, 2, url);
      assert.match(
        r.stderr,
        /^streamslo: --upstream ".*" has a path; .* --upstream http:\/\/127\.0\.0\.1:9\n$/,
      );
    }
    const otlp = await runCli([...base, "--admin-listen", "127.0.0.1:0", "--otlp-endpoint", "notaurl"]);
    assert.equal(otlp.code, 2);
    assert.match(otlp.stderr, /^streamslo: --otlp-endpoint "notaurl" is not an http\(s\) URL/);
    // From the environment, the message names the variable; an empty one turns export off.
    const env = await runCli([...base, "--admin-listen", "127.0.0.1:0"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318",
    });
    assert.equal(env.code, 2);
    assert.match(
      env.stderr,
      /^streamslo: OTEL_EXPORTER_OTLP_ENDPOINT "localhost:4318" is not an http\(s\) URL/,
    );
    assert.match(await startLineWith({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }), /\(service streamslo\)/);
    // The admin port is taken: the client listener had bound already, and must not keep the process up.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const busy = await runCli([...base, "--admin-listen", `127.0.0.1:${port}`], {}, 20_000);
      assert.equal(busy.code, 2, busy.stderr);
      assert.match(busy.stderr, /cannot listen: EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
