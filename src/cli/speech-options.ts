import { type Command, Option } from "commander";
import { STT_ADAPTERS, type SttAdapterName } from "../core/speech/speech-record.js";
import { nonEmpty, nonNegativeNumber, positiveInt, positiveNumber, probability } from "./option-parsers.js";

export type Protocol = "openai" | "stt-ws" | "tts-http";

export interface SpeechFlags {
  protocol: Protocol;
  adapter: SttAdapterName;
  audio?: string;
  frameMs: number;
  reference?: string;
  referenceFile?: string;
  language?: string;
  finalIdleMs: number;
  ttsText?: string;
  voice: string;
  ttsFormat: "pcm" | "wav";
  ttsSampleRate: number;
  ttsBufferMs: number;
  targetFirstPartialMs?: number;
  targetFinalMs?: number;
  targetRtf?: number;
  targetFirstAudioMs?: number;
  targetDropRate?: number;
  gate: boolean;
}

function frameMs(value: string): number {
  const v = positiveNumber(value);
  if (v < 10 || v > 1000) throw new Error("frame length must be 10 to 1000 ms (microphones send 20-100 ms)");
  return v;
}

/** `bench --protocol stt-ws|tts-http`: speech streams instead of text generations. */
export function addSpeechOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--protocol <kind>",
        "what to load: OpenAI text generation, STT over WebSocket, streaming TTS",
      )
        .choices(["openai", "stt-ws", "tts-http"])
        .default("openai"),
    )
    .addOption(
      new Option("--adapter <name>", "stt-ws: the server's protocol shape")
        .choices([...STT_ADAPTERS])
        .default("vosk"),
    )
    .option("--audio <file.wav>", "stt-ws: 16-bit PCM WAV to stream (default: a built-in 3 s test utterance)")
    .option("--frame-ms <ms>", "stt-ws: audio per frame, sent at real-time pace", frameMs, 50)
    .option("--reference <text>", "stt-ws: the audio's true transcript, for WER")
    .option("--reference-file <file>", "stt-ws: read the reference transcript from a file")
    .option("--language <code>", "stt-ws: language to ask for (adapters that take one)")
    .option(
      "--final-idle-ms <ms>",
      "stt-ws: after the end of audio and a final result, this much silence ends the stream",
      positiveNumber,
      2000,
    )
    .option("--tts-text <text>", "tts-http: text to speak (default: a built-in sentence)", nonEmpty)
    .option("--voice <name>", "tts-http: voice to ask for", nonEmpty, "alloy")
    .addOption(
      new Option("--tts-format <format>", "tts-http: response format").choices(["pcm", "wav"]).default("pcm"),
    )
    .option("--tts-sample-rate <hz>", "tts-http: sample rate of pcm responses", positiveInt, 24_000)
    .option(
      "--tts-buffer-ms <ms>",
      "tts-http: audio the listener buffers before playing",
      nonNegativeNumber,
      200,
    )
    .option("--target-first-partial-ms <ms>", "voice target: first partial p95 (default 300)", positiveNumber)
    .option(
      "--target-final-ms <ms>",
      "voice target: final transcript p95 after end of audio (default 800)",
      positiveNumber,
    )
    .option(
      "--target-rtf <x>",
      "voice target: real-time factor p95, strictly below (default 0.5)",
      positiveNumber,
    )
    .option("--target-first-audio-ms <ms>", "voice target: TTS first audio p95 (default 300)", positiveNumber)
    .option(
      "--target-drop-rate <share>",
      "voice target: failed or dropped streams (default 0.001)",
      probability,
    )
    .option("--gate", "speech: exit 99 when a voice target fails", false);
}
