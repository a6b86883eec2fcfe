import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simParams } from "../../src/sim/presets.js";
import { type SimServer, startSimServer } from "../../src/sim/sim-server.js";
import { onlyRunDir } from "../helpers/checked-run.js";
import { collect, runCli, spawnCli, tempDir } from "../helpers/cli.js";
import { chat, modelList, oneTokenAnswer, startScheduledServer } from "../helpers/scheduled-server.js";

/** Waits until the one run folder in `out` has at least `n` lines in requests.jsonl. */
async function waitForRecords(out: string, n: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const dirs = readdirSync(out);
    const file = dirs.length === 1 ? join(out, dirs[0] as string, "requests.jsonl") : "";
    if (file && existsSync(file) && jsonLines(file).length >= n) return;
    assert.ok(Date.now() < until, `${n} records in ${out} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function jsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** One line, no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe("streamslo bench on the embedded simulator", () => {
  it("writes the run folder, the table, and appends to one CSV across runs", async () => {
    const out = tempDir();
    const csv = join(out, "all.csv");
    const args = [
      "bench",
      "--sim-preset",
      "fast",
      "-c",
      "1,4",
      "-n",
      "8",
      "--out",
      join(out, "runs"),
      "--csv",
      csv,
    ];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^level\s+n\s+ok/m);
    // "(!)" marks a level the client could not time well: a busy machine's doing, not this test's subject
    assert.match(r.stdout, /^c=4(?: \(!\))?\s+8\s+8\s+0\s+0/m);
    const dir = onlyRunDir(join(out, "runs"));
    for (const f of ["requests.jsonl", "summary.json", "summary.csv", "summary.md", "run.json"]) {
      assert.ok(readdirSync(dir).includes(f), f);
    }
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.equal(summary.levels.length, 2);
    const c4 = summary.levels[1];
    for (const k of ["mode", "concurrency", "n", "median_wall_s", "p95_wall_s", "request_throughput"]) {
      assert.ok(k in c4, k);
    }
    assert.equal(c4.mode, "stream");
    assert.equal(c4.concurrency, 4);
    for (const k of ["ttft_ms", "tpot_ms", "itl_chunk_ms", "itl_token_ms", "e2e_ms", "jitter_ms"]) {
      for (const s of ["p50", "p90", "p95", "p99", "p99_9", "mean", "stddev", "min", "max"]) {
        assert.equal(typeof c4[k][s], "number", `${k}.${s}`);
      }
    }
    assert.ok(c4.ttft_ms.p50 > 0 && c4.ttft_ms.p50 <= c4.ttft_ms.p99);
    // 1 + 4 warm-up requests, 8 measured per level, and cool-down requests that hold the load
    // until the last measured one ends; every one on its own line.
    const lines = jsonLines(join(dir, "requests.jsonl"));
    assert.equal(lines.filter((l) => l.phase === "measure").length, 16);
    assert.equal(lines.filter((l) => l.phase === "warmup").length, 5);
    assert.match(
      readFileSync(join(dir, "summary.md"), "utf8"),
      /\| mode \| concurrency \| n \| median_wall_s \| p95_wall_s \|/,
    );

    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(rows.length, 1 + 4, "one header, two rows per run");
    assert.ok(rows[0]?.startsWith("mode,concurrency,n,median_wall_s,p95_wall_s,"));
    assert.equal(rows.filter((r) => r.startsWith("mode,")).length, 1);
  });

  it("--json prints only JSON on stdout; --no-stream measures plain HTTP", async () => {
    const out = tempDir();
    const r = await runCli([
      "bench",
      "--sim-preset",
      "fast",
      "-c",
      "2",
      "-n",
      "4",
      "--no-stream",
      "--json",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.levels[0].mode, "no-stream");
    assert.equal(doc.levels[0].ok, 4);
    assert.ok(doc.levels[0].median_wall_s > 0);
    // A whole answer has an end, but no first token apart from it: no TTFT, no TPOT.
    assert.ok(doc.levels[0].e2e_ms.p50 > 0);
    assert.equal(doc.levels[0].ttft_ms.count, 0);
    assert.equal(doc.levels[0].tpot_ms.count, 0);
    assert.equal(doc.endpoint.model, "streamslo-sim");
  });

  it("a server packing 3 tokens per chunk without logprobs: tokens per chunk from its usage", async () => {
    const out = tempDir();
    const r = await runCli([
      ...["bench", "--sim-preset", "fast", "--sim-tokens-per-chunk", "3", "-c", "1", "-n", "6"],
      ...["--max-tokens", "31", "--seed", "3", "--json", "--out", out],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const level = JSON.parse(r.stdout).levels[0];
    const run = join(out, readdirSync(out)[0] as string);
    const records = readFileSync(join(run, "requests.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((x) => x.phase === "measure");
    for (const rec of records) {
      const sum = rec.chunkTokens.reduce((a: number, b: number) => a + b, 0);
      assert.equal(sum, rec.outputTokens, "the chunks carry the usage's tokens");
      // as vLLM's --stream-interval (and the simulator) send them: the first token alone, then up to 3
      assert.equal(rec.chunkTokens[0], 1, `first chunk ${rec.chunkTokens}`);
      assert.ok(Math.max(...rec.chunkTokens) <= 3, `${rec.chunkTokens}`);
    }
    // per-token gaps are a third of the per-chunk ones, not equal to them
    assert.ok(
      level.itl_token_ms.p50 < level.itl_chunk_ms.p50 / 2,
      `${level.itl_token_ms.p50} vs ${level.itl_chunk_ms.p50}`,
    );
    // the first chunk carries one token, so the server-TTFT gap needs no caveat
    assert.equal(level.server.client_first_chunk_tokens, 1);
  });

  it("counts injected faults by code, and sent = ok + error + incomplete", async () => {
    const out = tempDir();
    const r = await runCli([
      "bench",
      "--sim-preset",
      "fast",
      "-c",
      "4",
      "-n",
      "60",
      "--fault-5xx",
      "0.15",
      "--fault-drop",
      "0.15",
      "--json",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout).levels[0];
    assert.equal(l.n, 60);
    assert.equal(l.n, l.ok + l.error + l.incomplete);
    assert.ok(l.errors_by_code.http_503 > 0);
    assert.ok(l.errors_by_code.stream_reset > 0);
  });
});

describe("bench sends what the flags ask for", () => {
  it("--prompt-file, --input-tokens, --output-tokens, --api-key, --extra-body and the model from /v1/models", async () => {
    const server = await startScheduledServer((req) =>
      req.url?.endsWith("/models") ? modelList("listed-model") : oneTokenAnswer(),
    );
    try {
      const dir = tempDir();
      const promptFile = join(dir, "prompt.txt");
      writeFileSync(promptFile, "Tell me about tides.");
      const common = [
        "bench",
        "--url",
        server.url,
        "-c",
        "1",
        "-n",
        "2",
        "--warmup",
        "0",
        "--baseline",
        "0",
        "--out",
        dir,
        "-q",
      ];
      let r = await runCli([...common, "--prompt-file", promptFile, "--api-key", "k-123"]);
      assert.equal(r.code, 0, r.stderr);
      const gens = () => server.received.filter((q) => q.path.endsWith("/chat/completions"));
      const first = gens()[0];
      assert.ok(first, "a generation request arrived");
      assert.equal((first.body as { model: string }).model, "listed-model");
      assert.deepEqual((first.body as { messages: unknown }).messages, [
        { role: "user", content: "Tell me about tides." },
      ]);
      assert.equal(first.headers.authorization, "Bearer k-123");

      server.received.length = 0;
      r = await runCli([
        ...common,
        "--input-tokens",
        "50",
        "--output-tokens",
        "20",
        "--extra-body",
        '{"cache_prompt":false}',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const bodies = gens().map(
        (q) =>
          q.body as {
            messages: { content: string }[];
            max_tokens: number;
            ignore_eos: boolean;
            cache_prompt: boolean;
          },
      );
      assert.equal(bodies.length, 2);
      const prompts = bodies.map((b) => b.messages[0]?.content ?? "");
      assert.notEqual(prompts[0], prompts[1], "synthetic prompts differ per request");
      for (const b of bodies) {
        assert.equal(b.messages[0]?.content.split(" ").length, 50);
        assert.equal(b.max_tokens, 20);
        assert.equal(b.ignore_eos, true);
        assert.equal(b.cache_prompt, false);
      }
      const both = await runCli([...common, "--prompt", "a", "--input-tokens", "5"]);
      assert.equal(both.code, 2);
      assertOneLine(both.stderr, /use only one of --prompt, --prompt-file, --input-tokens and --dataset/);
      const missing = await runCli([...common, "--prompt-file", join(dir, "nope.txt")]);
      assert.equal(missing.code, 2);
      assertOneLine(
        missing.stderr,
        /cannot read --prompt-file .*nope\.txt: no such file or folder \(ENOENT\)/,
      );
    } finally {
      await server.close();
    }
  });
});

describe("bench keeps the query of --url", () => {
  it("sends ?api-version= with /models and every generation, as gateways like Azure OpenAI need", async () => {
    const version = "api-version=2024-10-21";
    const server = await startScheduledServer((req) =>
      !req.url?.endsWith(`?${version}`)
        ? { status: 404, headers: { "content-type": "application/json" }, writes: [] }
        : req.url.includes("/models?")
          ? modelList("gpt-4o")
          : oneTokenAnswer(),
    );
    try {
      const out = tempDir();
      const url = `${server.origin}/openai/deployments/gpt-4o/chat/completions?${version}`;
      const r = await runCli(["bench", "--url", url, "-c", "1", "-n", "3", "--warmup", "0", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`benchmarking \\S+/gpt-4o/chat/completions\\?${version}, model gpt-4o`),
      );
      assert.deepEqual(
        // (the origin's /metrics is the server-metrics scrape, not an API request)
        [...new Set(server.received.map((q) => q.path).filter((p) => p.startsWith("/openai/")))],
        [
          `/openai/deployments/gpt-4o/models?${version}`,
          `/openai/deployments/gpt-4o/chat/completions?${version}`,
        ],
      );
      const summary = JSON.parse(readFileSync(join(onlyRunDir(out), "summary.json"), "utf8"));
      assert.equal(summary.levels[0].ok, 3);
    } finally {
      await server.close();
    }
  });
});

describe("bench on bad input: one line, a non-zero exit, nothing lost", () => {
  it("a bad flag value or an unknown flag exits 2", async () => {
    const bad = await runCli(["bench", "--concurrency", "x"]);
    assert.equal(bad.code, 2);
    assertOneLine(bad.stderr, /--concurrency.*comma-separated whole numbers/);
    const unknown = await runCli(["bench", "--concurrancy", "4"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--concurrancy'/);
    assert.match(unknown.stderr, /--concurrency/);
    const notUrl = await runCli(["bench", "--url", "localhost:8000"]);
    assert.equal(notUrl.code, 2);
    assertOneLine(notUrl.stderr, /not an http\(s\) URL/);
    // A key read from a file with its newline: said as such, not as an unreachable server.
    const newline = await runCli(["bench", "--api-key", "sk-from-file\n", "-n", "1"]);
    assert.equal(newline.code, 2);
    assertOneLine(newline.stderr, /API key .* holds a line break .*strip it/);
    assert.ok(!newline.stderr.includes("sk-from-file"), "the key is not echoed");
    // An unset shell variable gives an empty value: said at once, not sent to the server.
    for (const flag of ["--model", "--prompt", "--label"]) {
      const empty = await runCli(["bench", flag, "", "-n", "1"]);
      assert.equal(empty.code, 2, `${flag}: ${empty.stderr}`);
      assertOneLine(empty.stderr, /argument '' is invalid\. must not be empty/);
    }
  });

  it("loads one process cannot drive, impossible searches, unusable --csv and time limits exit 2 at once", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["-c", "100000"],
        /100000 concurrent streams is more than one client process drives \(at most 10000\)/,
      ],
      [["-r", "1e9"], /1000000000 requests\/s is more than one client process sends \(at most 10000\)/],
      [
        ["--find-capacity", "--capacity-start", "10", "--capacity-max", "5", "--slo", "ttft p(95)<1s"],
        /--capacity-start 10 is above --capacity-max 5/,
      ],
      [
        ["--csv", join(tempDir(), "no-such-folder", "x.csv")],
        /cannot use .*x\.csv: no such file or folder \(ENOENT\)/,
      ],
      [["--csv", tempDir()], /it is a folder, not a file \(EISDIR\)/],
      [["--timeout", "1e7"], /at most 2147483 s/],
      [["-c", "2", "--ramp-up", "5"], /--ramp-up shapes open-loop arrivals: add -r RATES, or drop it/],
      [
        ["--capacity-max", "64"],
        /^streamslo: --capacity-max acts only with --find-capacity: add it, or drop it$/,
      ],
      [
        ["--sweep-levels", "3", "--sweep-max-concurrency", "8"],
        /--sweep-levels, --sweep-max-concurrency act only with --sweep: add it, or drop them/,
      ],
      // Flags the rest of the line makes idle would be ignored in silence.
      [
        ["--url", "http://127.0.0.1:9/v1", "--fault-drop", "0.5", "--sim-preset", "fast"],
        /--sim-preset, --fault-drop apply to the embedded simulator, not to --url: drop them/,
      ],
      [["--stall-ms", "10"], /--stall-ms acts only with --fault-stall/],
      [["--dataset-format", "jsonl"], /--dataset-format acts only with --dataset/],
      [["--no-ignore-eos"], /--no-ignore-eos acts only with --output-tokens/],
      [["-c", "1", "--burstiness", "0.5"], /--burstiness shapes open-loop arrivals: add -r RATES/],
      [["--audio", "x.wav"], /--audio acts only with --protocol stt-ws: add it, or drop it/],
      [["--protocol", "stt-ws", "--voice", "x"], /--voice acts only with --protocol tts-http/],
      [["--gate"], /--gate acts only with --protocol stt-ws or tts-http/],
      // Levels are named by their value: two alike could not be told apart.
      [["-c", "2,2"], /argument '2,2' is invalid\. 2 is given twice; each level once/],
      [["-r", "1,1"], /argument '1,1' is invalid\. 1 is given twice/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(["bench", "-n", "1", "--out", tempDir(), ...args], {}, 30_000);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertOneLine(r.stderr, message);
    }
  });

  it("a run in which not one request was answered exits 3, however few it sent", async () => {
    const r = await runCli([
      "bench",
      "--sim-preset",
      "fast",
      "--model",
      "nosuch",
      "-c",
      "1",
      "-n",
      "1",
      "-q",
      "--out",
      tempDir(),
    ]);
    assert.equal(r.code, 3, r.stderr);
    assertOneLine(
      r.stderr,
      /^streamslo: every request failed \(http_404 x1\)\. Check --url, --model and --api-key\.$/,
    );
  });

  it("an --out that cannot hold a folder exits 2 with one line, text and speech, and leaves no process behind", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    for (const protocol of ["openai", "stt-ws"]) {
      // The embedded simulator is already up when the folder fails: it must be stopped, or the CLI never exits.
      const r = await runCli(
        ["bench", "--protocol", protocol, "-n", "1", "--quiet", "--out", join(file, "runs")],
        {},
        30_000,
      );
      assert.equal(r.code, 2, `${protocol}: ${r.stderr}`);
      assertOneLine(
        r.stderr,
        /cannot create the run folder in --out .*a-file\/runs \(ENOTDIR\); pass --out a folder/,
      );
    }
  });

  it("an --out under /proc exits 2 at once (Node's recursive mkdir would spin there for ever)", async () => {
    const r = await runCli(["bench", "-n", "1", "--quiet", "--out", "/proc/streamslo-runs/a"], {}, 30_000);
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr, /cannot create the run folder in --out \/proc\/streamslo-runs\/a \(ENOENT\)/);
  });

  it("an unreachable URL exits 3", async () => {
    const r = await runCli(["bench", "--url", "http://127.0.0.1:9/v1", "--out", tempDir()]);
    assert.equal(r.code, 3);
    assertOneLine(
      r.stderr,
      /cannot reach http:\/\/127\.0\.0\.1:9\/v1: connect_refused.*Is the server running/,
    );
  });

  it("an HTML page instead of an API exits 3", async () => {
    const html = await startScheduledServer(() => ({
      headers: { "content-type": "text/html" },
      writes: [{ atMs: 0, raw: "<!DOCTYPE html><title>router</title>" }],
    }));
    try {
      const r = await runCli(["bench", "--url", html.url, "--out", tempDir()]);
      assert.equal(r.code, 3);
      assertOneLine(r.stderr, /HTML page: this does not look like an OpenAI-compatible API/);
      const notFound = await startScheduledServer(() => ({
        status: 404,
        headers: { "content-type": "text/plain" },
        writes: [],
      }));
      try {
        const r404 = await runCli(["bench", "--url", notFound.url, "--out", tempDir()]);
        assert.equal(r404.code, 3);
        assertOneLine(r404.stderr, /\/v1\/models answered HTTP 404; pass --model/);
      } finally {
        await notFound.close();
      }
    } finally {
      await html.close();
    }
  });

  describe("against a simulator that wants a key", () => {
    let sim: SimServer;
    before(async () => {
      sim = await startSimServer({ ...simParams("fast"), apiKey: "s3cret" });
    });
    after(() => sim.close());

    it("a 401 exits 3 and says to pass --api-key; the key from the environment works", async () => {
      const r = await runCli(["bench", "--url", sim.baseUrl, "--out", tempDir()]);
      assert.equal(r.code, 3);
      assertOneLine(r.stderr, /HTTP 401 \(unauthorized\): pass --api-key/);
      const out = tempDir();
      const ok = await runCli(["bench", "--url", sim.baseUrl, "-c", "2", "-n", "2", "--out", out], {
        OPENAI_API_KEY: "s3cret",
      });
      assert.equal(ok.code, 0, ok.stderr);
      const files = readdirSync(onlyRunDir(out));
      for (const f of files) {
        assert.doesNotMatch(readFileSync(join(onlyRunDir(out), f), "utf8"), /s3cret/, `${f} leaks the key`);
      }
    });
  });

  it("requests that all fail alike stop the run with exit 3, and what was measured is written", async () => {
    const server = await startScheduledServer((req) =>
      req.url?.endsWith("/models")
        ? { status: 404, headers: { "content-type": "text/plain" }, writes: [{ atMs: 0, raw: "no" }] }
        : {
            status: 404,
            headers: { "content-type": "application/json" },
            writes: [{ atMs: 0, raw: '{"detail":"Not Found"}' }],
          },
    );
    try {
      const out = tempDir();
      const r = await runCli([
        "bench",
        "--url",
        server.url,
        "--model",
        "m",
        "-c",
        "1",
        "-n",
        "20",
        "--out",
        out,
      ]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /every request failed with http_404: HTTP 404: Not Found/);
      const dir = onlyRunDir(out);
      const lines = jsonLines(join(dir, "requests.jsonl"));
      assert.ok(lines.length >= 3 && lines.length < 21, `${lines.length} records`);
      const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
      assert.equal(summary.fatal.code, "http_404");
    } finally {
      await server.close();
    }
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} (Ctrl-C, or a supervisor) writes the partial results and exits 130`, async () => {
      // Slow streams: 1 token every 50 ms, 40 tokens; interrupted during the first level.
      const slow = await startScheduledServer((req) =>
        req.url?.endsWith("/models")
          ? modelList("m")
          : {
              writes: [
                { atMs: 0, data: chat.role() },
                ...Array.from({ length: 40 }, (_, i) => ({
                  atMs: 20 + i * 50,
                  data: chat.token(` w${i}`, i === 39 ? "length" : null),
                })),
                { atMs: 2000, data: "[DONE]" },
              ],
            },
      );
      try {
        const out = tempDir();
        const child = spawnCli([
          "bench",
          "--url",
          slow.url,
          "--model",
          "m",
          "-c",
          "4",
          "-n",
          "40",
          "--warmup",
          "0",
          "--baseline",
          "0",
          "--out",
          out,
        ]);
        const done = collect(child);
        // Killed half a second into the second round of four 2-second streams, whatever the start-up took.
        await waitForRecords(out, 4);
        await new Promise((r) => setTimeout(r, 500));
        child.kill(signal);
        const r = await done;
        assert.equal(r.code, 130, r.stderr);
        assert.match(r.stderr, /interrupted/);
        const dir = onlyRunDir(out);
        const lines = jsonLines(join(dir, "requests.jsonl"));
        assert.ok(lines.length >= 4, `${lines.length} records`);
        const aborted = lines.filter((l) => (l.error as { code?: string } | undefined)?.code === "aborted");
        assert.equal(aborted.length, 4, "the 4 in-flight requests are recorded as aborted");
        const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
        assert.equal(summary.interrupted, true);
        assert.equal(summary.levels[0].ok, lines.length - 4);
      } finally {
        await slow.close();
      }
    });
  }
});
