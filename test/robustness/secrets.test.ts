import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { redactUrlSecrets } from "../../src/core/redact.js";
import { simParams } from "../../src/sim/presets.js";
import { type SimServer, startSimServer } from "../../src/sim/sim-server.js";
import { assertCleanExit, onlyRunDir } from "../helpers/checked-run.js";
import { collect, runCli, spawnCli, tempDir } from "../helpers/cli.js";
import { type HostileServer, respond, sse, sseHead, startHostileServer } from "../helpers/hostile-server.js";
import { chat } from "../helpers/scheduled-server.js";

const KEY = "sk-LEAKCHECK-7f3a9c2e1b4d6a8f0e2c4b6d";
/** Any start of the key long enough to matter contains this. */
const MARK = "LEAKCHECK";

/** Every file below `dir`, recursively, as text. */
function filesBelow(dir: string): [string, string][] {
  return readdirSync(dir).flatMap((name): [string, string][] => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [[path, readFileSync(path, "latin1")]];
  });
}

function assertNoKey(where: string, text: string): void {
  assert.ok(
    !text.includes(MARK),
    `${where} carries the key: …${text.slice(text.indexOf(MARK) - 60, text.indexOf(MARK) + 40)}…`,
  );
}

function assertNoKeyBelow(dir: string): void {
  for (const [path, text] of filesBelow(dir)) assertNoKey(path, text);
}

function keyOf(headers: Record<string, string>): string {
  return (headers.authorization ?? "").replace(/^Bearer /, "");
}

/**
 * A server that echoes the caller's key back in every way an error can carry it, one way per
 * request in turn: a 401 JSON message, deep in a long 500 body (where messages are cut), an in-band
 * stream error, a non-SSE body whose excerpt is cut inside the key, and as generated text.
 */
function echoing(): Parameters<typeof startHostileServer>[0] {
  let n = 0;
  return (s, req) => {
    const key = keyOf(req.headers);
    switch (n++ % 5) {
      case 0:
        return respond(
          s,
          401,
          "application/json",
          JSON.stringify({ error: { message: `Incorrect API key provided: ${key}.` } }),
        );
      case 1:
        return respond(s, 500, "text/plain", `${"x".repeat(190)} Bearer ${key}`);
      case 2:
        sseHead(s);
        return s.end(sse(JSON.stringify({ error: { message: `key ${key} was revoked` } })));
      case 3:
        return respond(s, 200, "text/plain", `${"y".repeat(40)} ${key} and more text after it`);
      default:
        sseHead(s);
        s.write(sse(chat.role()) + sse(chat.token(`you sent ${key}`)) + sse(chat.token("!", "stop")));
        return s.end(sse("[DONE]"));
    }
  };
}

describe("the API key never reaches an output", { concurrency: 2 }, () => {
  let sim: SimServer;
  before(async () => {
    sim = await startSimServer(simParams("fast", { apiKey: KEY }));
  });
  after(() => sim.close());

  it("bench --api-key on the embedded simulator, --json, then report", async () => {
    const out = tempDir();
    const args = ["bench", "--sim-preset", "fast", "--sim-api-key", KEY, "--api-key", KEY];
    const r = await runCli([...args, "-c", "2", "-n", "4", "--baseline", "1", "--json", "--out", out]);
    assertCleanExit(r, 0);
    assert.equal(JSON.parse(r.stdout).levels[0].ok, 4, "the key was sent and accepted");
    const dir = onlyRunDir(out);
    const report = await runCli(["report", dir]);
    assertCleanExit(report, 0);
    assert.ok(readdirSync(dir).includes("report.html"));
    for (const [what, text] of Object.entries({ ...r, report: report.stdout + report.stderr })) {
      assertNoKey(what, String(text));
    }
    assertNoKeyBelow(dir);
  });

  for (const env of ["STREAMSLO_API_KEY", "OPENAI_API_KEY"]) {
    it(`bench and probe with the key in ${env}`, async () => {
      const out = tempDir();
      const bench = await runCli(
        ["bench", "--url", sim.baseUrl, "-c", "1", "-n", "2", "--baseline", "1", "--json", "--out", out],
        {
          [env]: KEY,
        },
      );
      assertCleanExit(bench, 0);
      assert.equal(JSON.parse(bench.stdout).levels[0].ok, 2, "the key was sent and accepted");
      const probe = await runCli(["probe", "--url", sim.baseUrl, "--json"], { [env]: KEY });
      assertCleanExit(probe, 0);
      assert.equal(JSON.parse(probe.stdout).probes[0].outcome, "ok");
      for (const text of [bench.stdout, bench.stderr, probe.stdout, probe.stderr])
        assertNoKey("output", text);
      assertNoKeyBelow(out);
    });
  }

  it("a key inside --url (user:key@ or ?api-key=) reaches no file and no error line", async () => {
    const out = tempDir();
    const u = new URL(sim.baseUrl);
    const url = `http://user:${KEY}@${u.host}${u.pathname}?api-key=${KEY}&api-version=2024-10-21`;
    const bench = await runCli(["bench", "--url", url, "--api-key", KEY, "-c", "1", "-n", "2", "--out", out]);
    assertCleanExit(bench, 0);
    const run = JSON.parse(readFileSync(join(onlyRunDir(out), "run.json"), "utf8"));
    assert.equal(
      run.config.url,
      `http://[redacted]@${u.host}${u.pathname}?api-key=[redacted]&api-version=2024-10-21`,
    );
    assertNoKey("bench", bench.stdout + bench.stderr);
    assertNoKeyBelow(out);
    const closed = await startHostileServer((s) => s.destroy());
    const port = new URL(closed.url).port;
    await closed.close();
    const down = await runCli(["probe", "--url", `http://127.0.0.1:${port}/v1?key=${KEY}`, "--model", "m"]);
    assertCleanExit(down, 3);
    assert.match(down.stderr, /\?key=\[redacted\]/, "the error line still names the URL");
    assertNoKey("probe", down.stdout + down.stderr);
    const typo = await runCli(["bench", `--ulr=${url}`]); // the flag parser quotes what it did not know
    assertCleanExit(typo, 2);
    assert.match(typo.stderr, /unknown option '--ulr=http:\/\/\[redacted\]@/);
    assertNoKey("a mistyped flag", typo.stdout + typo.stderr);
  });

  it("redactUrlSecrets: credentials out, the rest of the URL and the sentence kept", () => {
    assert.equal(
      redactUrlSecrets("cannot reach https://me:pw@h.example/v1?sig=abc&x=1&access_token=t: refused"),
      "cannot reach https://[redacted]@h.example/v1?sig=[redacted]&x=1&access_token=[redacted]: refused",
    );
    assert.equal(redactUrlSecrets("http://h:8000/v1?model=m&stream=1"), "http://h:8000/v1?model=m&stream=1");
    assert.equal(redactUrlSecrets("http://u:p@ss@h/v1"), "http://[redacted]@h/v1", "a password with an @");
    assert.equal(
      redactUrlSecrets("wss://h/v1?max_tokens=64&apiKey=k1&X-Amz-Signature=s#access_token=t"),
      "wss://h/v1?max_tokens=64&apiKey=[redacted]&X-Amz-Signature=[redacted]#access_token=[redacted]",
    );
    assert.equal(redactUrlSecrets("no url here; a=b"), "no url here; a=b");
  });

  describe("a server that echoes the key back", () => {
    let echo: HostileServer;
    before(async () => {
      echo = await startHostileServer(echoing());
    });
    after(() => echo.close());

    it("bench: records, summary and terminal hold [redacted] instead", async () => {
      const out = tempDir();
      const slo = join(tempDir(), "slo.yaml");
      writeFileSync(slo, "request:\n  output: { contains: 'you sent' }\n"); // keeps the answers' text
      const r = await runCli(
        ["bench", "--url", echo.url, "--api-key", KEY, "-c", "1", "-n", "5", "--warmup", "0"].concat([
          "--baseline",
          "0",
          "--slo",
          slo,
          "--out",
          out,
        ]),
      );
      assertCleanExit(r, 0);
      assert.ok(
        echo.received.every((q) => keyOf(q.headers) === KEY),
        "the key was sent",
      );
      const lines = readFileSync(join(onlyRunDir(out), "requests.jsonl"), "utf8");
      for (const code of ["http_401", "http_500", "stream_error", "not_sse"])
        assert.match(lines, new RegExp(code));
      assert.match(lines, /you sent \[redacted\]/);
      assert.match(lines, /Incorrect API key provided: \[redacted\]/);
      assertNoKey("stdout", r.stdout);
      assertNoKey("stderr", r.stderr);
      assertNoKeyBelow(out);
    });

    it("bench that stops on 401s, probe and doctor: what they print says [redacted]", async () => {
      const always401 = await startHostileServer((s, req) =>
        respond(s, 401, "application/json", JSON.stringify({ error: `bad key ${keyOf(req.headers)}` })),
      );
      try {
        const out = tempDir();
        const r = await runCli(
          ["bench", "--url", always401.url, "-c", "1", "-n", "5", "--baseline", "0", "--out", out],
          {
            STREAMSLO_API_KEY: KEY,
          },
        );
        assertCleanExit(r, 3);
        assert.match(r.stderr, /every request failed with http_401: HTTP 401: bad key \[redacted\]/);
        assertNoKey("stderr", r.stderr);
        assertNoKeyBelow(out);
        const probe = await runCli(["probe", "--url", always401.url, "--api-key", KEY]);
        assertCleanExit(probe, 3);
        assert.match(probe.stderr, /the probe failed: http_401: HTTP 401: bad key \[redacted\]/);
        assertNoKey("probe", probe.stdout + probe.stderr);
        const doctor = await runCli(
          ["doctor", "--url", always401.url, "--metrics", `${always401.origin}/metrics`, "--model", "m"],
          { STREAMSLO_API_KEY: KEY },
        );
        assertCleanExit(doctor, 1);
        assert.match(doctor.stdout, /bad key \[redacted\]/, "the doctor shows what the server said");
        assertNoKey("doctor", doctor.stdout + doctor.stderr);
      } finally {
        await always401.close();
      }
    });

    it("the proxy: its log, metrics and errors carry no key, while the key reaches the upstream", async () => {
      const proxy = spawnCli([
        "proxy",
        "--upstream",
        echo.origin,
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
      ]);
      const logs = collect(proxy);
      const urls = await new Promise<string[]>((resolve) => {
        let seen = "";
        proxy.stderr?.on("data", (d: Buffer) => {
          seen += d.toString();
          const m = /(http:\S+) -> .* metrics at (http:\S+)/.exec(seen);
          if (m) resolve([m[1] as string, m[2] as string]);
        });
      });
      const [url, metricsUrl] = urls as [string, string];
      const sentBefore = echo.received.length;
      const out = tempDir();
      const bench = await runCli(
        [
          "bench",
          "--url",
          `${url}/v1`,
          "--api-key",
          KEY,
          "-c",
          "1",
          "-n",
          "5",
          "--warmup",
          "0",
          "--baseline",
          "0",
        ].concat(["--server-metrics", "none", "--out", out]),
      );
      assertCleanExit(bench, 0);
      assert.ok(echo.received.length - sentBefore >= 5, "the requests went through the proxy");
      assert.ok(
        echo.received.slice(sentBefore).every((q) => keyOf(q.headers) === KEY),
        "the key was forwarded",
      );
      const metrics = await (await fetch(metricsUrl)).text();
      proxy.kill("SIGTERM");
      const p = await logs;
      assertCleanExit(p, 0);
      const logLines = p.stdout.trim().split("\n");
      assert.ok(logLines.length >= 5, `${logLines.length} log lines`);
      assert.match(p.stdout, /\[redacted\]/, "the echoed key was in an error the log shows");
      for (const [what, text] of Object.entries({
        log: p.stdout,
        stderr: p.stderr,
        metrics,
        bench: bench.stdout + bench.stderr,
      })) {
        assertNoKey(what, text);
      }
      assertNoKeyBelow(out);
    });
  });
});
