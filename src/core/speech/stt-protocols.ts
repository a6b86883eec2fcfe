import type { SttAdapterName } from "./speech-record.js";

/**
 * The wire shapes of streaming speech-to-text servers, as pure encoders and decoders (the socket
 * lives in src/client). Each adapter documents what it assumes about its server.
 */

export type SttEvent =
  | { kind: "ready" }
  | { kind: "partial"; text: string }
  | { kind: "final"; text: string }
  /** The server says the stream is over (it may also just close). */
  | { kind: "done" }
  | { kind: "error"; code: "server_busy" | "server_error"; message: string }
  | { kind: "ignore" };

export interface SttStartOptions {
  sampleRate: number;
  language?: string;
  model?: string;
  /** A stream id for servers that want one. */
  uid: string;
}

/** One stream's decoder: keeps what the protocol needs to turn messages into events and a transcript. */
export interface SttSession {
  parse(message: string): SttEvent[];
  /** The transcript as the server last stated it. */
  transcript(): string;
}

export interface SttProtocol {
  name: SttAdapterName;
  /** Sample rate the adapter sends (servers of this shape are usually run at 16 kHz). */
  sampleRate: number;
  /** Audio may only be sent after a "ready" event. */
  awaitsReady: boolean;
  /** Path a server of this shape usually listens on (used for the simulator). */
  defaultPath: string;
  /** Query parameters and headers of the WebSocket handshake. */
  handshake(url: URL, o: SttStartOptions, apiKey?: string): { url: URL; headers: Record<string, string> };
  /** Why the URL cannot be used as given (it declares audio other than what this adapter sends). */
  urlProblem?(url: URL): string | undefined;
  /** Messages sent once the socket opens. */
  start(o: SttStartOptions): string[];
  /** One audio frame as the server wants it. */
  frame(samples: Int16Array): Uint8Array;
  /** Messages that say the audio is over (binary when a Uint8Array). */
  end(): (string | Uint8Array)[];
  session(): SttSession;
}

function pcm16(samples: Int16Array): Uint8Array {
  // Little-endian on every platform Node runs on; copy so the frame owns its bytes.
  return new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
}

function parseJson(message: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(message) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const NOT_JSON: SttEvent[] = [{ kind: "error", code: "server_error", message: "a message that is not JSON" }];

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** A session of one event per message, whose transcript is its final results joined. */
function finalsSession(classify: (m: Record<string, unknown>) => SttEvent): SttSession {
  const finals: string[] = [];
  return {
    parse(message) {
      const m = parseJson(message);
      if (!m) return NOT_JSON;
      const e = classify(m);
      if (e.kind === "final" && e.text) finals.push(e.text);
      return [e];
    },
    transcript: () => finals.join(" "),
  };
}

function bearer(apiKey?: string): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * Vosk server (vosk-server's WebSocket ASR): a JSON `{"config": {"sample_rate": R}}` first, then
 * binary 16-bit PCM; it answers each audio message with `{"partial": "..."}` or, at an utterance
 * end it detects, `{"text": "...", "result": [...]}`; `{"eof" : 1}` ends the audio, the server
 * sends the last `{"text"}` and closes. Assumed: no ready message, no error messages.
 */
export const vosk: SttProtocol = {
  name: "vosk",
  sampleRate: 16_000,
  awaitsReady: false,
  defaultPath: "/",
  handshake: (url, _o, apiKey) => ({ url, headers: bearer(apiKey) }),
  start: (o) => [JSON.stringify({ config: { sample_rate: o.sampleRate } })],
  frame: pcm16,
  end: () => ['{"eof" : 1}'],
  session: () =>
    finalsSession((m) => {
      if ("partial" in m) return { kind: "partial", text: str(m.partial) };
      if ("text" in m) return { kind: "final", text: str(m.text) };
      return { kind: "ignore" };
    }),
};

/**
 * WhisperLive (collabora/WhisperLive): JSON options `{uid, language, task, model, use_vad}` first;
 * the server answers `{"message": "SERVER_READY"}` (or `{"status": "WAIT"}` when full), then takes
 * 32-bit float PCM at 16 kHz and sends `{"segments": [{start, end, text, completed}]}` with the
 * latest segments each time (earlier ones repeated); `END_OF_AUDIO` (binary) ends the audio and
 * `{"message": "DISCONNECT"}` ends the session. Assumed: a segment is identified by its start time;
 * a completed segment is final, the newest open one is the partial.
 */
export const whisperlive: SttProtocol = {
  name: "whisperlive",
  sampleRate: 16_000,
  awaitsReady: true,
  defaultPath: "/",
  handshake: (url, _o, apiKey) => ({ url, headers: bearer(apiKey) }),
  start: (o) => [
    JSON.stringify({
      uid: o.uid,
      language: o.language ?? "en",
      task: "transcribe",
      model: o.model ?? "small",
      use_vad: false,
    }),
  ],
  frame(samples) {
    const f = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) f[i] = (samples[i] as number) / 32768;
    return new Uint8Array(f.buffer);
  },
  end: () => [new TextEncoder().encode("END_OF_AUDIO")],
  session() {
    const segments = new Map<string, { text: string; completed: boolean }>();
    return {
      parse(message) {
        const m = parseJson(message);
        if (!m) return NOT_JSON;
        if (m.message === "SERVER_READY") return [{ kind: "ready" }];
        if (m.message === "DISCONNECT") return [{ kind: "done" }];
        if (m.status === "WAIT")
          return [
            {
              kind: "error",
              code: "server_busy",
              message: `server full, wait ${str(String(m.message))} min`,
            },
          ];
        if (m.status === "ERROR") return [{ kind: "error", code: "server_error", message: str(m.message) }];
        if (!Array.isArray(m.segments)) return [{ kind: "ignore" }];
        const events: SttEvent[] = [];
        let open = "";
        for (const s of m.segments as Record<string, unknown>[]) {
          const key = String(s.start);
          const text = str(s.text).trim();
          const was = segments.get(key);
          const completed = s.completed === true;
          if (completed && !was?.completed) events.push({ kind: "final", text });
          if (!completed) open = text;
          segments.set(key, { text, completed });
        }
        if (open) events.push({ kind: "partial", text: open });
        return events.length ? events : [{ kind: "ignore" }];
      },
      transcript: () =>
        [...segments.entries()]
          .sort((a, b) => Number(a[0]) - Number(b[0]))
          .map(([, s]) => s.text)
          .filter(Boolean)
          .join(" "),
    };
  },
};

/**
 * Deepgram-style live transcription (`/v1/listen`): query parameters say the audio format
 * (`encoding=linear16&sample_rate=R&channels=1&interim_results=true`), `Authorization: Token KEY`;
 * binary 16-bit PCM in; `{"type": "Results", is_final, speech_final, channel: {alternatives:
 * [{transcript}]}}` out; `{"type": "CloseStream"}` ends the audio, the server flushes its last
 * results, sends `{"type": "Metadata"}` and closes. Assumed: is_final results are never revised.
 */
export const deepgram: SttProtocol = {
  name: "deepgram",
  sampleRate: 16_000,
  awaitsReady: false,
  defaultPath: "/v1/listen",
  handshake(url, o, apiKey) {
    const u = new URL(url);
    const q = u.searchParams;
    if (!q.has("encoding")) q.set("encoding", "linear16");
    if (!q.has("sample_rate")) q.set("sample_rate", String(o.sampleRate));
    if (!q.has("channels")) q.set("channels", "1");
    if (!q.has("interim_results")) q.set("interim_results", "true");
    if (o.model && !q.has("model")) q.set("model", o.model);
    const headers: Record<string, string> = apiKey ? { authorization: `Token ${apiKey}` } : {};
    return { url: u, headers };
  },
  urlProblem(url) {
    // The URL declares the audio's format; the adapter sends mono linear16 at 16 kHz, whatever it says.
    const want: Record<string, string> = { encoding: "linear16", sample_rate: "16000", channels: "1" };
    const wrong = Object.entries(want).filter(([k, v]) => {
      const given = url.searchParams.get(k);
      return given !== null && given !== v;
    });
    if (wrong.length === 0) return undefined;
    return `the URL sets ${wrong.map(([k]) => `${k}=${url.searchParams.get(k)}`).join(", ")}, but streamslo streams ${Object.entries(
      want,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}: drop them from the URL (they are set for you) or set those values`;
  },
  start: () => [],
  frame: pcm16,
  end: () => ['{"type":"CloseStream"}'],
  session: () =>
    finalsSession((m) => {
      if (m.type === "Metadata") return { kind: "done" };
      if (m.type === "Error" || m.err_code !== undefined)
        return { kind: "error", code: "server_error", message: str(m.description ?? m.err_msg) };
      if (m.type !== "Results") return { kind: "ignore" };
      const channel = m.channel as { alternatives?: { transcript?: unknown }[] } | undefined;
      const text = str(channel?.alternatives?.[0]?.transcript).trim();
      return { kind: m.is_final === true ? "final" : "partial", text };
    }),
};

export const STT_PROTOCOLS: Record<SttAdapterName, SttProtocol> = { vosk, whisperlive, deepgram };
