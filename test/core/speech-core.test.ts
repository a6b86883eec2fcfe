import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeSpeech, SpeechAggregate } from "../../src/core/speech/speech-aggregate.js";
import { sttMetrics, ttsMetrics } from "../../src/core/speech/speech-metrics.js";
import type { SttRecord, TtsRecord } from "../../src/core/speech/speech-record.js";
import { deepgram, vosk, whisperlive } from "../../src/core/speech/stt-protocols.js";
import { VOICE_TARGETS } from "../../src/core/speech/voice-targets.js";
import { encodeWav, parseWav, resample, toneUtterance, WavError } from "../../src/core/speech/wav.js";
import { WavStreamHeader } from "../../src/core/speech/wav-stream.js";
import { normaliseWords, wer, wordErrors } from "../../src/core/speech/wer.js";

function wavBytes(o: {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  samples: number[];
}) {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const data = Buffer.alloc((o.samples.length * bits) / 8);
  o.samples.forEach((s, i) => {
    if (bits === 16) data.writeInt16LE(s, 2 * i);
    else data.writeFloatLE(s, 4 * i);
  });
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVEfmt ", 8, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(o.format ?? 1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(o.rate ?? 16_000, 24);
  h.writeUInt32LE(((o.rate ?? 16_000) * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(data.length, 40);
  return new Uint8Array(Buffer.concat([h, data]));
}

describe("WAV", () => {
  it("reads 16-bit PCM, averages stereo to mono, and round-trips what it writes", () => {
    const stereo = parseWav(wavBytes({ channels: 2, rate: 8000, samples: [100, 300, -200, -400] }));
    assert.equal(stereo.sampleRate, 8000);
    assert.deepEqual([...stereo.samples], [200, -300]);
    const tone = toneUtterance(2);
    const back = parseWav(encodeWav(tone));
    assert.equal(back.sampleRate, 16_000);
    assert.deepEqual(back.samples, tone.samples);
  });

  it("rejects float, 8-bit and non-WAV input with a message that says what to do", () => {
    assert.throws(
      () => parseWav(wavBytes({ format: 3, bits: 32, samples: [0.5] })),
      (e: Error) => {
        assert.ok(e instanceof WavError);
        assert.match(e.message, /32-bit float.*16-bit PCM.*sox/);
        return true;
      },
    );
    assert.throws(() => parseWav(new Uint8Array(Buffer.from("ID3 not a wav file at all"))), /not a WAV file/);
    const whole = encodeWav(toneUtterance(1));
    assert.throws(
      () => parseWav(whole.subarray(0, 2000)),
      /WAV file is cut short: its data chunk declares \d+ bytes, the file holds 1956/,
    );
    // A streamed file's writer leaves the data size unknown (0xFFFFFFFF): it runs to the end.
    const streamed = Uint8Array.from(whole);
    new DataView(streamed.buffer).setUint32(40, 0xffffffff, true);
    assert.equal(parseWav(streamed).samples.length, parseWav(whole).samples.length);
  });

  it("finds where a streamed WAV body's audio starts, however the header is split", () => {
    const tone = encodeWav({ sampleRate: 8000, samples: new Int16Array(50) }); // 44-byte header + 100 bytes
    const list = Buffer.from("LIST\x04\x00\x00\x00INFO", "latin1");
    const body = Buffer.concat([tone.subarray(0, 36), list, tone.subarray(36)]);
    for (let cut = 0; cut <= body.length; cut++) {
      const r = new WavStreamHeader();
      const audio = r.feed(body.subarray(0, cut)) + r.feed(body.subarray(cut)) + r.end();
      assert.equal(audio, 100, `split at ${cut}`);
      assert.equal(r.byteRate, 16_000, `split at ${cut}`);
    }
    const raw = new WavStreamHeader();
    assert.equal(raw.feed(Buffer.from([1, 2, 3, 4, 5])), 5, "raw PCM is all audio");
    const cut = new WavStreamHeader();
    assert.equal(
      cut.feed(body.subarray(0, 30)) + cut.end(),
      0,
      "a body that ends inside its header: no audio",
    );
  });

  it("resamples by the rate ratio (8 kHz -> 16 kHz doubles the samples, keeps the duration)", () => {
    const a = { sampleRate: 8000, samples: Int16Array.from([0, 1000, 2000, 3000]) };
    const b = resample(a, 16_000);
    assert.equal(b.samples.length, 8);
    assert.deepEqual([...b.samples.slice(0, 4)], [0, 500, 1000, 1500]);
  });
});

describe("WER", () => {
  it("normalises case and punctuation, then counts word edits over reference words", () => {
    assert.deepEqual(normaliseWords("Hello, World! It's  'fine'."), ["hello", "world", "it's", "fine"]);
    assert.equal(wer("I don\u2019t know", "i don't know"), 0, "a typographic apostrophe is an apostrophe");
    assert.equal(wer("the cat sat on the mat", "The cat sat on the mat."), 0);
    // one substitution, one deletion, one insertion over 6 words
    assert.deepEqual(wordErrors("the cat sat on the mat", "the bat sat on mat today"), {
      errors: 3,
      referenceWords: 6,
    });
    assert.equal(wer("a b c d", ""), 1);
    assert.ok(Number.isNaN(wer("", "anything")));
  });
});

function stt(over: Partial<SttRecord>): SttRecord {
  return {
    kind: "stt",
    adapter: "vosk",
    id: "s0",
    scenario: "c=1",
    phase: "measure",
    intendedStartMs: 0,
    startMs: 0,
    openMs: 2,
    readyMs: 2,
    firstAudioMs: 3,
    audioEndMs: 3003,
    audioMs: 3000,
    frameLagMaxMs: 0.4,
    firstTextMs: 203,
    partialTimesMs: [203, 503, 903],
    finalTimesMs: [3403],
    endMs: 3403,
    outcome: "ok",
    ...over,
  };
}

describe("speech SLIs", () => {
  it("derives first partial, gaps, final latency and RTF from the timestamps", () => {
    const m = sttMetrics(stt({}));
    assert.equal(m.setupMs, 2);
    assert.equal(m.firstPartialMs, 200);
    assert.deepEqual(m.partialGapsMs, [300, 400, 2500]);
    assert.equal(m.finalMs, 400);
    assert.ok(Math.abs((m.rtf ?? 0) - 400 / 3000) < 1e-9);
  });

  it("judges streams against the voice targets and aggregates goodput, drops and targets", () => {
    const agg = new SpeechAggregate(
      { scenario: "c=1", mode: "stt-ws/vosk", concurrency: 1 },
      VOICE_TARGETS,
      200,
    );
    agg.add(stt({}));
    agg.add(stt({ id: "s1", endMs: 3003 + 900 })); // final 900 ms: misses final
    agg.add(
      stt({ id: "s2", outcome: "incomplete", error: { code: "ws_closed", message: "x" }, endMs: undefined }),
    );
    assert.deepEqual(judgeSpeech(stt({ endMs: 3003 + 900 }), VOICE_TARGETS, 200).missed, ["final"]);
    const s = agg.summary();
    assert.equal(s.sent, 3);
    assert.equal(s.ok, 2);
    assert.equal(s.incomplete, 1);
    assert.equal(s.goodput.count, 1);
    assert.deepEqual(s.missed, { final: 1, outcome: 1 });
    assert.deepEqual(s.error_codes, { ws_closed: 1 });
    const drop = s.targets.find((t) => t.target.startsWith("drop"));
    assert.equal(drop?.pass, false);
    assert.ok(Math.abs((drop?.observed ?? 0) - 1 / 3) < 1e-9);
  });

  it("models TTS playback: a buffer of 200 ms, real-time play, stalls when audio arrives late", () => {
    // 48,000 bytes/s: 9,600 bytes = 200 ms of audio per chunk
    const base: TtsRecord = {
      kind: "tts",
      id: "t0",
      scenario: "c=1",
      phase: "measure",
      intendedStartMs: 0,
      startMs: 0,
      firstAudioMs: 100,
      chunkTimesMs: [100, 200, 300, 400],
      chunkBytes: [9600, 9600, 9600, 9600],
      endMs: 400,
      audioBytes: 38_400,
      bytesPerSecond: 48_000,
      outcome: "ok",
    };
    const fast = ttsMetrics(base, 200);
    assert.equal(fast.firstAudioMs, 100);
    assert.equal(fast.stalls, 0);
    assert.equal(fast.audioMs, 800);
    // playback starts at 100 ms with 200 ms buffered; the next chunk at 700 ms is 400 ms late
    const slow = ttsMetrics({ ...base, chunkTimesMs: [100, 700, 800, 900] }, 200);
    assert.equal(slow.stalls, 1);
    assert.equal(slow.stallMs, 400);
  });
});

describe("STT protocol decoders", () => {
  it("Vosk: partials, finals and the transcript", () => {
    const s = vosk.session();
    assert.deepEqual(s.parse('{"partial": "hello"}'), [{ kind: "partial", text: "hello" }]);
    assert.deepEqual(s.parse('{"text": "hello world", "result": []}'), [
      { kind: "final", text: "hello world" },
    ]);
    assert.equal(s.transcript(), "hello world");
    assert.equal(s.parse("not json")[0]?.kind, "error");
  });

  it("WhisperLive: ready, repeated segments, completion, busy and disconnect", () => {
    const s = whisperlive.session();
    assert.deepEqual(s.parse('{"uid":"a","message":"SERVER_READY"}'), [{ kind: "ready" }]);
    assert.deepEqual(
      s.parse('{"uid":"a","segments":[{"start":"0.000","end":"1.0","text":" hi","completed":false}]}'),
      [{ kind: "partial", text: "hi" }],
    );
    const done = s.parse(
      '{"uid":"a","segments":[{"start":"0.000","end":"1.2","text":"hi there","completed":true},{"start":"1.200","end":"1.5","text":"how","completed":false}]}',
    );
    assert.deepEqual(done, [
      { kind: "final", text: "hi there" },
      { kind: "partial", text: "how" },
    ]);
    // the completed segment repeated is not a new final
    assert.deepEqual(s.parse('{"segments":[{"start":"0.000","text":"hi there","completed":true}]}'), [
      { kind: "ignore" },
    ]);
    assert.equal(s.transcript(), "hi there how");
    assert.equal(s.parse('{"status":"WAIT","message":3}')[0]?.kind, "error");
    assert.deepEqual(s.parse('{"message":"DISCONNECT"}'), [{ kind: "done" }]);
  });

  it("Deepgram: interim and final results, metadata ends the stream; the handshake says the format", () => {
    const s = deepgram.session();
    const r = (t: string, f: boolean) =>
      JSON.stringify({ type: "Results", is_final: f, channel: { alternatives: [{ transcript: t }] } });
    assert.deepEqual(s.parse(r("hel", false)), [{ kind: "partial", text: "hel" }]);
    assert.deepEqual(s.parse(r("hello", true)), [{ kind: "final", text: "hello" }]);
    assert.deepEqual(s.parse('{"type":"Metadata"}'), [{ kind: "done" }]);
    const h = deepgram.handshake(
      new URL("wss://api.example/v1/listen?model=nova"),
      { sampleRate: 16_000, uid: "x" },
      "k",
    );
    assert.equal(h.url.searchParams.get("encoding"), "linear16");
    assert.equal(h.url.searchParams.get("sample_rate"), "16000");
    assert.equal(h.url.searchParams.get("model"), "nova");
    assert.equal(h.headers.authorization, "Token k");
  });
});
