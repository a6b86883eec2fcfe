import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { SpeechLevelSummary } from "../../src/core/speech/speech-aggregate.js";
import { durationMs, parseWav } from "../../src/core/speech/wav.js";
import { runCli, tempDir } from "../helpers/cli.js";

/** Real speech, made at test time by Debian's espeak-ng (CI installs it): never a downloaded file. */
function speak(text: string, stdout: boolean): Buffer {
  try {
    return stdout
      ? execFileSync("espeak-ng", ["--stdout", text])
      : (() => {
          const path = join(tempDir(), "speech.wav");
          execFileSync("espeak-ng", ["-w", path, text]);
          return readFileSync(path);
        })();
  } catch (err) {
    throw new Error(`this test needs espeak-ng (apt-get install espeak-ng): ${(err as Error).message}`);
  }
}

describe("real speech from espeak-ng", () => {
  it("reads espeak-ng's WAV, file and stdout forms (the latter with an unknown data length)", () => {
    const file = parseWav(speak("please book a table for two", false));
    const piped = parseWav(speak("please book a table for two", true));
    assert.equal(file.sampleRate, 22_050);
    assert.equal(piped.sampleRate, 22_050);
    assert.equal(piped.samples.length, file.samples.length);
    const ms = durationMs(file);
    assert.ok(ms > 1000 && ms < 4000, `duration ${ms}`);
  });

  it("streams it, resampled to 16 kHz, to the simulator at real-time pace", async () => {
    const dir = tempDir();
    const wav = join(dir, "speech.wav");
    writeFileSync(wav, speak("please book a table for two", false));
    const seconds = durationMs(parseWav(readFileSync(wav))) / 1000;
    const r = await runCli(
      [
        "bench",
        "--protocol",
        "stt-ws",
        "--adapter",
        "deepgram",
        "--audio",
        wav,
        "--reference",
        "please book a table for two",
        "-c",
        "1",
        "-n",
        "1",
        "--warmup",
        "0",
        "--json",
        "--out",
        dir,
      ],
      {},
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { audio: { duration_ms: number }; levels: SpeechLevelSummary[] };
    assert.ok(Math.abs(doc.audio.duration_ms / 1000 - seconds) < 0.01);
    const l = doc.levels[0];
    assert.equal(l?.ok, 1);
    assert.ok(l?.wer !== null && l?.wer !== undefined && l.wer >= 0 && l.wer <= 1);
    // one stream of `seconds` audio over about as long: audio seconds per second near 1
    assert.ok(
      (l?.audio_s_per_s ?? 0) > 0.6 && (l?.audio_s_per_s ?? 0) < 1.1,
      `audio s/s ${l?.audio_s_per_s}`,
    );
  });
});
