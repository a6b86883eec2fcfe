import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Clock } from "../../src/client/clock.js";
import { streamStt } from "../../src/client/speech/stt-stream.js";
import { sttMetrics } from "../../src/core/speech/speech-metrics.js";
import type { SttAdapterName } from "../../src/core/speech/speech-record.js";
import { STT_PROTOCOLS } from "../../src/core/speech/stt-protocols.js";
import { type SttScript, startScriptedStt } from "../helpers/scripted-stt-server.js";

const SECOND = new Int16Array(16_000).map((_, i) => Math.round(4000 * Math.sin(i / 10)));
const FRAME_MS = 50;
/** Loopback and timers on a shared machine: generous, but far tighter than the intervals checked. */
const TOL = 40;

const script: SttScript = {
  partials: [
    { atMs: 150, text: "please" },
    { atMs: 400, text: "please book" },
    { atMs: 700, text: "please book a" },
  ],
  finalAfterEndMs: 250,
  finalText: "please book a table",
};

async function run(adapter: SttAdapterName, s: SttScript, apiKey?: string) {
  const server = await startScriptedStt(adapter, s);
  try {
    const rec = await streamStt(
      new Clock(),
      {
        url: server.url,
        protocol: STT_PROTOCOLS[adapter],
        samples: SECOND,
        frameMs: FRAME_MS,
        apiKey,
        reference: "please book the table",
        timeoutMs: 5000,
        finalIdleMs: 500,
        signal: new AbortController().signal,
      },
      { id: "s0", scenario: "c=1", phase: "measure", intendedStartMs: 0 },
    );
    return { rec, seen: server.seen };
  } finally {
    await server.close();
  }
}

function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= TOL,
    `${what}: ${actual} vs ${expected} +- ${TOL}`,
  );
}

for (const adapter of ["vosk", "whisperlive", "deepgram"] as const) {
  describe(`STT over WebSocket, ${adapter} protocol`, () => {
    it("streams at real-time pace and measures the server's schedule", async () => {
      const { rec, seen } = await run(adapter, script, "key-123");
      assert.equal(rec.outcome, "ok", JSON.stringify(rec.error));
      // what the server received: the protocol's framing, all the audio, the end message
      assert.equal(seen.frames, 20);
      assert.equal(seen.audioBytes, SECOND.length * (adapter === "whisperlive" ? 4 : 2));
      if (adapter === "vosk") {
        assert.deepEqual(JSON.parse(seen.firstText ?? ""), { config: { sample_rate: 16_000 } });
        assert.equal(seen.endMessage, '{"eof" : 1}');
      } else if (adapter === "whisperlive") {
        const opts = JSON.parse(seen.firstText ?? "") as Record<string, unknown>;
        assert.equal(opts.uid, "s0");
        assert.equal(opts.task, "transcribe");
        assert.equal(seen.endMessage, "END_OF_AUDIO");
      } else {
        assert.equal(seen.query.get("encoding"), "linear16");
        assert.equal(seen.query.get("sample_rate"), "16000");
        assert.equal(seen.query.get("interim_results"), "true");
        assert.equal(seen.headers.authorization, "Token key-123");
        assert.deepEqual(JSON.parse(seen.endMessage ?? ""), { type: "CloseStream" });
      }
      // real-time pacing: 20 frames of 50 ms, the last one leaving 950 ms after the first
      near((rec.audioEndMs ?? 0) - (rec.firstAudioMs ?? 0), 950, "audio span");
      assert.equal(rec.audioMs, 1000);
      assert.ok(rec.frameLagMaxMs < TOL, `frame lag ${rec.frameLagMaxMs}`);
      // the SLIs match the schedule
      const m = sttMetrics(rec);
      near(m.firstPartialMs, 150, "first partial");
      assert.equal(rec.partialTimesMs.length, 3);
      near(m.partialGapsMs[0], 250, "gap 1");
      near(m.partialGapsMs[1], 300, "gap 2");
      near(m.finalMs, 250, "final latency");
      near((m.rtf ?? 0) * 1000, 250, "RTF x audio");
      assert.equal(rec.transcript, "please book a table");
      assert.deepEqual(rec.wordErrors, { errors: 1, referenceWords: 4 });
    });

    it("counts a connection cut mid-audio as a dropped stream", async () => {
      const { rec } = await run(adapter, { ...script, dropAfterFrames: 5 });
      assert.equal(rec.outcome, "incomplete");
      assert.equal(rec.error?.code, "ws_closed");
      assert.match(rec.error?.message ?? "", /while audio was streaming/);
    });
  });
}

describe("STT over WebSocket, failures", () => {
  it("a WhisperLive server that is full (WAIT) fails the stream as server_busy before any audio", async () => {
    const { rec, seen } = await run("whisperlive", { ...script, busy: true });
    assert.equal(rec.outcome, "error");
    assert.equal(rec.error?.code, "server_busy");
    assert.equal(seen.frames, 0);
  });

  it("a refused connection is an error with a stable code", async () => {
    const rec = await streamStt(
      new Clock(),
      {
        url: new URL("ws://127.0.0.1:1/"),
        protocol: STT_PROTOCOLS.vosk,
        samples: SECOND,
        frameMs: FRAME_MS,
        timeoutMs: 2000,
        finalIdleMs: 500,
        signal: new AbortController().signal,
      },
      { id: "s0", scenario: "c=1", phase: "measure", intendedStartMs: 0 },
    );
    assert.equal(rec.outcome, "error");
    assert.equal(rec.error?.code, "connect_refused");
  });
});
