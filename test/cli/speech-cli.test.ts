import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { SpeechLevelSummary } from "../../src/core/speech/speech-aggregate.js";
import { encodeWav, toneUtterance } from "../../src/core/speech/wav.js";
import { collect, runCli, spawnCli, tempDir } from "../helpers/cli.js";

function runDir(out: string): string {
  const dirs = readdirSync(out);
  assert.equal(dirs.length, 1);
  return join(out, dirs[0] as string);
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A short utterance (two words, 0.84 s) keeps the runs quick. */
function shortWav(dir: string): string {
  const path = join(dir, "two-words.wav");
  writeFileSync(path, encodeWav(toneUtterance(2)));
  return path;
}

describe("streamslo bench --protocol stt-ws on the embedded simulator", () => {
  it("measures each level, RTF rises with concurrency, WER against the built-in reference, and the report", async () => {
    const out = tempDir();
    const res = await runCli(
      [
        "bench",
        "--protocol",
        "stt-ws",
        "-c",
        "1,6",
        "-n",
        "3",
        "--warmup",
        "0",
        "--frame-ms",
        "100",
        "--json",
        "--out",
        out,
      ],
      {},
      90_000,
    );
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as { kind: string; levels: SpeechLevelSummary[] };
    assert.equal(doc.kind, "speech");
    const [one, six] = doc.levels;
    assert.ok(one && six);
    assert.equal(one.ok, 3);
    assert.equal(six.ok, 3);
    assert.equal(one.wer, 0);
    // the simulator's RTF is 0.08 + 0.02 per extra stream: about 0.08 alone, 0.18 at 6
    assert.ok((one.rtf?.p50 ?? 0) > 0.05 && (one.rtf?.p50 ?? 0) < 0.13, `rtf c=1 ${one.rtf?.p50}`);
    assert.ok((six.rtf?.p50 ?? 0) > (one.rtf?.p50 ?? 0) + 0.05, `rtf c=6 ${six.rtf?.p50}`);
    assert.ok(one.targets.every((t) => t.pass));
    const dir = runDir(out);
    const recs = lines(join(dir, "requests.jsonl"));
    assert.ok(recs.length >= 6);
    assert.ok(recs.every((x) => x.kind === "stt" && x.adapter === "vosk"));
    const rep = await runCli(["report", dir]);
    assert.equal(rep.code, 0, rep.stderr);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /# Voice SLO notes: STT/);
    assert.match(md, /highest load that met every voice target.*\*\*concurrency 6\*\*/);
    assert.match(md, /RTF p95 by load: [\d.]+ at 1, [\d.]+ at 6/);
    assert.match(md, /charts\/rtf-vs-load\.svg/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    assert.match(html, /id="chart-rtf-vs-load"><svg/);
    assert.doesNotMatch(html, /<script/);
  });

  it("counts dropped streams, fails the drop target and exits 99 with --gate", async () => {
    const out = tempDir();
    const res = await runCli(
      [
        "bench",
        "--protocol",
        "stt-ws",
        "--audio",
        shortWav(out),
        "--fault-drop",
        "0.5",
        "-c",
        "4",
        "-n",
        "12",
        "--warmup",
        "0",
        "--gate",
        "--out",
        out,
      ],
      {},
      90_000,
    );
    assert.equal(res.code, 99, res.stderr);
    assert.match(res.stderr, /voice target failed/);
    const runs = readdirSync(out).filter((d) => d !== "two-words.wav");
    const summary = JSON.parse(readFileSync(join(out, runs[0] as string, "summary.json"), "utf8")) as {
      levels: SpeechLevelSummary[];
    };
    const l = summary.levels[0];
    assert.ok(l);
    assert.ok(l.incomplete > 0, "some streams dropped");
    assert.equal(l.sent, l.ok + l.error + l.incomplete);
    assert.equal(l.error_codes.ws_closed, l.incomplete);
    assert.equal(l.targets.find((t) => t.target.startsWith("drop"))?.pass, false);
    assert.match(res.stdout, /c=4 errors: ws_closed x\d+/);
  });
});

describe("streamslo bench --protocol tts-http on the embedded simulator", () => {
  it("reports time to first audio and the audio rate per level", async () => {
    const out = tempDir();
    const res = await runCli(
      ["bench", "--protocol", "tts-http", "-c", "1,4", "-n", "4", "--warmup", "0", "--json", "--out", out],
      {},
      60_000,
    );
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as { levels: SpeechLevelSummary[] };
    const [one, four] = doc.levels;
    assert.ok(one && four);
    assert.equal(one.kind, "tts");
    assert.equal(one.ok, 4);
    // the simulator: 60 ms + RTF 0.1 x 100 ms to the first chunk alone; 10x real time
    const fa = one.first_audio_ms?.p50 ?? 0;
    assert.ok(fa > 50 && fa < 150, `first audio ${fa}`);
    assert.ok((one.realtime_ratio?.p50 ?? 0) > 5, `ratio ${one.realtime_ratio?.p50}`);
    assert.ok((four.realtime_ratio?.p50 ?? 0) < (one.realtime_ratio?.p50 ?? 0));
    const rep = await runCli(["report", runDir(out)]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(
      readFileSync(join(runDir(out), "report.md"), "utf8"),
      /Audio arrived at [\d.]+x real time at 1/,
    );
  });
});

describe("streamslo bench speech: time limits", () => {
  it("--timeout 0 and --max-request-time 0 mean no limit: streams complete", async () => {
    const out = tempDir();
    const wav = shortWav(out);
    for (const protocol of ["stt-ws", "tts-http"]) {
      const args = ["bench", "--protocol", protocol, "-c", "1", "-n", "1", "--warmup", "0", "--json"];
      const audio = protocol === "stt-ws" ? ["--audio", wav] : [];
      const res = await runCli(
        [...args, ...audio, "--timeout", "0", "--max-request-time", "0", "--out", out],
        {},
        60_000,
      );
      assert.equal(res.code, 0, `${protocol}: ${res.stderr}`);
      const doc = JSON.parse(res.stdout) as { levels: SpeechLevelSummary[] };
      assert.equal(doc.levels[0]?.ok, 1, protocol);
    }
  });
});

describe("streamslo bench speech: keys", () => {
  it("authenticates with the key, refuses a wrong one (exit 3), and writes the key nowhere", async () => {
    const key = "sk-speech-4f1c9e2a7b";
    const out = tempDir();
    const wav = shortWav(out);
    const args = [
      "bench",
      "--protocol",
      "stt-ws",
      "--audio",
      wav,
      "-c",
      "1",
      "-n",
      "1",
      "--warmup",
      "0",
      "--out",
      out,
    ];
    const good = await runCli(
      [...args, "--adapter", "deepgram", "--sim-api-key", key, "--api-key", key],
      {},
      30_000,
    );
    assert.equal(good.code, 0, good.stderr);
    const bad = await runCli(
      [...args, "-n", "3", "--sim-api-key", key],
      { STREAMSLO_API_KEY: "sk-wrong-0000" },
      30_000,
    );
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /every stream failed with http_401/);
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(files.length >= 8);
    for (const text of [
      good.stdout,
      good.stderr,
      bad.stdout,
      bad.stderr,
      ...files.map((d) => readFileSync(join(d.parentPath, d.name), "latin1")),
    ]) {
      assert.ok(!text.includes(key) && !text.includes("sk-wrong-0000"), "a key was written out");
    }
  });
});

describe("streamslo bench speech: bad input", () => {
  it("a TTS endpoint that answers with a web page is not audio: every stream fails, exit 3", async () => {
    const page = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><html><body>Welcome to nginx!</body></html>".repeat(50));
    });
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/v1`;
      const out = tempDir();
      const r = await runCli(
        [
          "bench",
          "--protocol",
          "tts-http",
          "--url",
          url,
          "-c",
          "1",
          "-n",
          "2",
          "--warmup",
          "0",
          "--out",
          out,
          "--gate",
        ],
        {},
        30_000,
      );
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /every stream failed \(not_audio x2\)/);
      const records = lines(join(runDir(out), "requests.jsonl"));
      assert.ok(records.length >= 2);
      for (const rec of records) {
        assert.equal(rec.outcome, "error");
        assert.match(
          String((rec.error as { message: string }).message),
          /expected audio, got text\/html: "<!doctype html>/,
        );
      }
    } finally {
      page.close();
    }
  });

  it("a missing or float WAV, an http URL for stt-ws, or an open-loop flag on a closed loop is one line and exit 2", async () => {
    const dir = tempDir();
    const float = join(dir, "float.wav");
    const h = Buffer.alloc(48);
    h.write("RIFF", 0, "latin1");
    h.write("WAVEfmt ", 8, "latin1");
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(3, 20);
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(16_000, 24);
    h.writeUInt16LE(32, 34);
    h.write("data", 36, "latin1");
    h.writeUInt32LE(4, 40);
    writeFileSync(float, h);
    for (const [args, pattern] of [
      [
        ["--audio", join(dir, "nope.wav")],
        /cannot read --audio .*nope\.wav: no such file or folder \(ENOENT\)/,
      ],
      [["--audio", float], /32-bit float; streamslo reads 16-bit PCM/],
      [["--url", "http://127.0.0.1:9/"], /needs a ws: or wss: URL/],
      [["-c", "2", "--max-concurrency", "4"], /--max-concurrency shapes open-loop arrivals: add -r RATES/],
      // Flags of the other protocols would be ignored in silence.
      [
        ["--target-first-audio-ms", "100"],
        /--target-first-audio-ms acts only with --protocol tts-http, not stt-ws/,
      ],
      [
        ["--output-tokens", "10", "--no-stream"],
        /--no-stream, --output-tokens act only with --protocol openai, not stt-ws: drop them/,
      ],
      [
        ["--adapter", "deepgram", "--url", "ws://127.0.0.1:9/v1/listen?sample_rate=8000&encoding=mulaw"],
        /--url: the URL sets encoding=mulaw, sample_rate=8000, but streamslo streams encoding=linear16, sample_rate=16000, channels=1/,
      ],
    ] as const) {
      const res = await runCli(["bench", "--protocol", "stt-ws", "-q", "--out", dir, ...args]);
      assert.equal(res.code, 2, res.stderr);
      const text = res.stderr.trim().split("\n");
      assert.equal(text.length, 1, res.stderr);
      assert.match(text[0] as string, pattern);
    }
  });
});

describe("streamslo speech against a standalone server, and interrupted", () => {
  it("streams to `streamslo sim` by URL (WhisperLive and TTS shapes), and Ctrl-C writes what was measured", async () => {
    const dir = tempDir();
    const sim = spawnCli(["sim", "--listen", "127.0.0.1:0"]);
    const simDone = collect(sim);
    const origin = await new Promise<string>((resolve, reject) => {
      let seen = "";
      sim.stdout?.on("data", (d: Buffer) => {
        seen += d.toString();
        const m = /listening on (http:\/\/\S+)\/v1/.exec(seen);
        if (m && /speech: STT WebSocket/.test(seen)) resolve(m[1] as string);
      });
      sim.on("close", () => reject(new Error(`sim exited: ${seen}`)));
    });
    const ws = origin.replace(/^http/, "ws");
    const stt = await runCli(
      [
        "bench",
        "--protocol",
        "stt-ws",
        "--adapter",
        "whisperlive",
        "--url",
        `${ws}/stt/whisperlive`,
        "--audio",
        shortWav(dir),
        "--reference",
        "please booked",
        "-c",
        "2",
        "-n",
        "2",
        "--warmup",
        "0",
        "--json",
        "--out",
        join(dir, "stt"),
      ],
      {},
      30_000,
    );
    assert.equal(stt.code, 0, stt.stderr);
    const level = (JSON.parse(stt.stdout) as { levels: SpeechLevelSummary[] }).levels[0];
    assert.equal(level?.ok, 2);
    assert.equal(level?.wer, 0.5); // "please book" heard, "please booked" expected
    const tts = await runCli(
      [
        "bench",
        "--protocol",
        "tts-http",
        "--url",
        `${origin}/v1`,
        "-c",
        "1",
        "-n",
        "1",
        "--warmup",
        "0",
        "--json",
        "--out",
        join(dir, "tts"),
      ],
      {},
      30_000,
    );
    assert.equal(tts.code, 0, tts.stderr);
    assert.equal((JSON.parse(tts.stdout) as { levels: SpeechLevelSummary[] }).levels[0]?.ok, 1);

    // a long run, interrupted once streams have completed: exit 130, results written, whole lines
    const out = join(dir, "interrupted");
    const child = spawnCli([
      "bench",
      "--protocol",
      "stt-ws",
      "--url",
      `${ws}/stt/vosk`,
      "--audio",
      shortWav(dir),
      "-c",
      "2",
      "-n",
      "1000",
      "--warmup",
      "0",
      "--out",
      out,
    ]);
    const done = collect(child);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!existsSync(out)) return;
        const run = readdirSync(out, { withFileTypes: true }).find((d) => d.isDirectory());
        const path = run && join(out, run.name, "requests.jsonl");
        // The folder comes before its files: wait for requests.jsonl to exist too.
        if (path && existsSync(path) && readFileSync(path, "utf8").split("\n").length > 3) {
          clearInterval(poll);
          resolve();
        }
      }, 100);
    });
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted: closing streams and writing results/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const run = runDir(out);
    const recs = lines(join(run, "requests.jsonl"));
    assert.ok(recs.length >= 2);
    const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8")) as { interrupted: boolean };
    assert.equal(summary.interrupted, true);
    sim.kill("SIGTERM");
    assert.equal((await simDone).code, 0);
  });
});
