/**
 * The simulated speech servers' cost model. The recogniser re-decodes the whole utterance when the
 * audio ends (as Whisper-family servers do), so its final latency is RTF x duration; RTF grows
 * with the streams it serves at once: rtf = baseRtf + rtfPerStream x (streams - 1), so it
 * crosses 1.0 (falling behind speech) at 1 + (1 - baseRtf) / rtfPerStream streams.
 */
export interface SttSimParams {
  /** A partial result after every this much audio. */
  partialEveryMs: number;
  baseRtf: number;
  rtfPerStream: number;
  /** Fixed cost of the final decode. */
  finalBaseMs: number;
  /** Audio per recognised word: the simulator "hears" one scripted word per this much audio. */
  wordMs: number;
  /** Share of words recognised wrongly (seeded), to exercise WER. */
  wordErrorRate: number;
}

export interface TtsSimParams {
  /** Fixed cost before the first audio chunk. */
  firstAudioMs: number;
  /** Audio per chunk. */
  chunkMs: number;
  baseRtf: number;
  rtfPerStream: number;
  sampleRate: number;
  /** Audio per word of input text. */
  msPerWord: number;
}

export interface SpeechSimParams {
  stt: SttSimParams;
  tts: TtsSimParams;
}

export const DEFAULT_SPEECH_SIM: SpeechSimParams = {
  stt: {
    partialEveryMs: 200,
    baseRtf: 0.08,
    rtfPerStream: 0.02,
    finalBaseMs: 30,
    wordMs: 370,
    wordErrorRate: 0,
  },
  tts: {
    firstAudioMs: 60,
    chunkMs: 100,
    baseRtf: 0.1,
    rtfPerStream: 0.04,
    sampleRate: 24_000,
    msPerWord: 350,
  },
};

/** The script the simulated recogniser "hears", one word per `wordMs` of audio, cycled. */
export const SIM_SCRIPT =
  "please book a table for two at seven tonight and send the confirmation to my phone thank you".split(" ");

export function scriptWords(n: number): string[] {
  return Array.from({ length: n }, (_, i) => SIM_SCRIPT[i % SIM_SCRIPT.length] as string);
}
