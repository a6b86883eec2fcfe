/**
 * WAV (RIFF) reading and writing for the speech client: 16-bit PCM in, mono 16-bit PCM at the rate a
 * protocol wants out. Pure: bytes in, samples out. Format reference: the RIFF WAVE "fmt " chunk
 * (format tag 1 = PCM, 0xFFFE = extensible with a PCM sub-format).
 */

export class WavError extends Error {}

export interface PcmAudio {
  sampleRate: number;
  /** Mono samples, 16-bit signed. */
  samples: Int16Array;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;

/** Parses a WAV file holding 16-bit PCM (any channel count; channels are averaged to mono). */
export function parseWav(buf: Uint8Array): PcmAudio {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (at: number) =>
    String.fromCharCode(buf[at] ?? 0, buf[at + 1] ?? 0, buf[at + 2] ?? 0, buf[at + 3] ?? 0);
  if (buf.byteLength < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw new WavError("not a WAV file (no RIFF/WAVE header); give a 16-bit PCM .wav");
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= buf.byteLength) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16) throw new WavError("WAV fmt chunk is too short");
      let format = view.getUint16(body, true);
      if (format === EXTENSIBLE && size >= 26) format = view.getUint16(body + 24, true);
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw new WavError("WAV data chunk comes before its fmt chunk");
      if (fmt.format !== PCM || fmt.bits !== 16) {
        const what =
          fmt.format === 3
            ? "32-bit float"
            : fmt.format === PCM
              ? `${fmt.bits}-bit PCM`
              : `format ${fmt.format}`;
        throw new WavError(
          `WAV holds ${what}; streamslo reads 16-bit PCM: convert it, e.g. sox in.wav -b 16 -e signed-integer out.wav`,
        );
      }
      if (fmt.channels < 1 || fmt.rate < 1)
        throw new WavError("WAV fmt chunk has no channels or no sample rate");
      // A writer that streamed the file could not know the size: it leaves 0 or a huge placeholder
      // (espeak-ng to a pipe: 0x7FFFF000; others 0x7FFFFFFF or 0xFFFFFFFF). The data runs to the end.
      const streamed = size === 0 || size >= 0x7fff0000;
      if (!streamed && size > buf.byteLength - body)
        throw new WavError(
          `WAV file is cut short: its data chunk declares ${size} bytes, the file holds ${buf.byteLength - body}; give the whole file`,
        );
      const bytes = streamed ? buf.byteLength - body : size;
      const frames = Math.floor(bytes / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < fmt.channels; c++) sum += view.getInt16(body + 2 * (i * fmt.channels + c), true);
        samples[i] = Math.round(sum / fmt.channels);
      }
      if (frames === 0) throw new WavError("WAV file holds no audio samples");
      return { sampleRate: fmt.rate, samples };
    }
    at = body + size + (size % 2); // chunks are word-aligned
  }
  throw new WavError("WAV file has no data chunk");
}

/** Linear-interpolation resampling: enough for feeding recognisers test speech, not for listening. */
export function resample(a: PcmAudio, rate: number): PcmAudio {
  if (a.sampleRate === rate) return a;
  const n = Math.max(1, Math.round((a.samples.length * rate) / a.sampleRate));
  const out = new Int16Array(n);
  const step = a.sampleRate / rate;
  const last = a.samples.length - 1;
  for (let i = 0; i < n; i++) {
    const x = i * step;
    const j = Math.min(Math.floor(x), last);
    const frac = x - j;
    const s0 = a.samples[j] as number;
    const s1 = a.samples[Math.min(j + 1, last)] as number;
    out[i] = Math.round(s0 + (s1 - s0) * frac);
  }
  return { sampleRate: rate, samples: out };
}

export function durationMs(a: PcmAudio): number {
  return (1000 * a.samples.length) / a.sampleRate;
}

/** A mono 16-bit PCM WAV file. */
export function encodeWav(a: PcmAudio): Uint8Array {
  const dataBytes = a.samples.length * 2;
  const buf = new Uint8Array(44 + dataBytes);
  const view = new DataView(buf.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) buf[at + i] = s.charCodeAt(i);
  };
  put(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  put(8, "WAVE");
  put(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, a.sampleRate, true);
  view.setUint32(28, a.sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  put(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < a.samples.length; i++) view.setInt16(44 + 2 * i, a.samples[i] as number, true);
  return buf;
}

/**
 * A test utterance without speech: one tone burst per word with short gaps, so a recogniser's
 * voice-activity detection has something to find; the simulator "recognises" it as `words`.
 */
export function toneUtterance(words: number, sampleRate = 16_000, wordMs = 280, gapMs = 90): PcmAudio {
  const per = Math.round(((wordMs + gapMs) * sampleRate) / 1000);
  const voiced = Math.round((wordMs * sampleRate) / 1000);
  const samples = new Int16Array(per * words + Math.round((100 * sampleRate) / 1000));
  for (let w = 0; w < words; w++) {
    const hz = 180 + 40 * (w % 5);
    for (let i = 0; i < voiced; i++) {
      const fade = Math.min(1, i / 160, (voiced - i) / 160);
      samples[w * per + i] = Math.round(8000 * fade * Math.sin((2 * Math.PI * hz * i) / sampleRate));
    }
  }
  return { sampleRate, samples };
}
