import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { Agent } from "undici";
import { Clock } from "../../src/client/clock.js";
import { streamTts } from "../../src/client/speech/tts-stream.js";
import { ttsMetrics } from "../../src/core/speech/speech-metrics.js";

const TOL = 40;

/** A WAV header for 16-bit mono at `rate`: RIFF/WAVE, fmt, an optional LIST chunk (as ffmpeg writes), data. */
function wavHeader(rate: number, list = false): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "latin1");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(1, 10); // mono
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * 2, 16); // bytes per second
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const info = Buffer.from("LIST\x1a\x00\x00\x00INFOISFT\x0e\x00\x00\x00Lavf60.16.100\x00", "latin1");
  const data = Buffer.from("data\xff\xff\xff\xff", "latin1"); // streamed: length unknown
  const body = Buffer.concat([Buffer.from("WAVE", "latin1"), fmt, ...(list ? [info] : []), data]);
  const riff = Buffer.alloc(8);
  riff.write("RIFF", 0, "latin1");
  riff.writeUInt32LE(0xffffffff, 4);
  return Buffer.concat([riff, body]);
}

/** Sends `chunks` of audio at fixed times after the request; a WAV header first when asked. */
async function scheduledAudio(atMs: number[], bytes: number, wav: boolean, header = wavHeader(16_000)) {
  let body: Record<string, unknown> | undefined;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString();
    });
    req.on("end", () => {
      body = JSON.parse(text) as Record<string, unknown>;
      res.writeHead(200, { "content-type": wav ? "audio/wav" : "audio/pcm" });
      if (wav) {
        // In two pieces, as a header may come: no piece alone says where the audio starts.
        res.write(header.subarray(0, 10));
        setTimeout(() => res.write(header.subarray(10)), 5);
      }
      atMs.forEach((t, i) => {
        setTimeout(() => {
          res.write(Buffer.alloc(bytes));
          if (i === atMs.length - 1) res.end();
        }, t);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/audio/speech`);
  return { url, body: () => body, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function tts(url: URL, format: "pcm" | "wav") {
  const agent = new Agent();
  try {
    return await streamTts(
      agent,
      new Clock(),
      {
        url,
        model: "tts-1",
        voice: "alloy",
        input: "hello there",
        format,
        sampleRate: 24_000,
        timeoutMs: 5000,
        maxRequestMs: 10_000,
        signal: new AbortController().signal,
      },
      { id: "t0", scenario: "c=1", phase: "measure", intendedStartMs: 0 },
    );
  } finally {
    await agent.close();
  }
}

describe("streaming TTS client", () => {
  it("measures time to first audio, the audio rate and stalls against a known schedule", async () => {
    // 24 kHz 16-bit: 9,600 bytes = 200 ms of audio; sent every 100 ms (2x real time) then a 600 ms gap
    const s = await scheduledAudio([100, 200, 300, 900], 9600, false);
    try {
      const rec = await tts(s.url, "pcm");
      assert.equal(rec.outcome, "ok");
      assert.deepEqual(s.body(), {
        model: "tts-1",
        voice: "alloy",
        input: "hello there",
        response_format: "pcm",
      });
      assert.equal(rec.audioBytes, 4 * 9600);
      const m = ttsMetrics(rec, 200);
      assert.ok(Math.abs((m.firstAudioMs ?? 0) - 100) < TOL, `first audio ${m.firstAudioMs}`);
      assert.equal(m.audioMs, 800);
      // 800 ms of audio over ~800 ms of streaming
      assert.ok(Math.abs((m.realtimeRatio ?? 0) - 1) < 0.1, `ratio ${m.realtimeRatio}`);
      // playing from 100 ms: 600 ms buffered by 300 ms, runs dry at 700 ms, next audio at 900 ms
      assert.equal(m.stalls, 1);
      assert.ok(Math.abs(m.stallMs - 200) < TOL, `stall ${m.stallMs}`);
    } finally {
      await s.close();
    }
  });

  it("takes the playback rate from a WAV header and does not count the header as audio", async () => {
    const s = await scheduledAudio([50, 100], 3200, true);
    try {
      const rec = await tts(s.url, "wav");
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.bytesPerSecond, 32_000);
      assert.equal(rec.audioBytes, 6400);
      assert.equal(ttsMetrics(rec, 0).audioMs, 200);
    } finally {
      await s.close();
    }
  });

  it("reads a WAV header of any length (a LIST chunk), sent in pieces, even when pcm was asked for", async () => {
    // 8 kHz: 16,000 bytes = 1 s of audio, the first of it 150 ms after the header.
    const s = await scheduledAudio([150, 300], 8000, true, wavHeader(8000, true));
    try {
      const rec = await tts(s.url, "pcm");
      assert.equal(rec.outcome, "ok");
      assert.equal(rec.bytesPerSecond, 16_000, "the header's rate, not --tts-sample-rate's");
      assert.equal(rec.audioBytes, 16_000, "the LIST chunk is header, not audio");
      const m = ttsMetrics(rec, 0);
      assert.equal(m.audioMs, 1000);
      assert.ok(
        Math.abs((m.firstAudioMs ?? 0) - 150) < TOL,
        `first audio ${m.firstAudioMs}, not the header's`,
      );
    } finally {
      await s.close();
    }
  });
});
