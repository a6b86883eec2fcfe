import { createParser } from "eventsource-parser";
import { type Dispatcher, request } from "undici";

const HEADERS = { "content-type": "application/json", accept: "text/event-stream" };

/**
 * The baseline for client capacity: a streaming client written as simply as possible (undici, an
 * SSE parser, JSON.parse per event) that records nothing. What streamslo's client costs beyond
 * this is the cost of its recording: timestamps, the accumulator, outcomes, aggregates, JSONL.
 */
export async function referenceStream(
  dispatcher: Dispatcher,
  url: string,
  body: string,
  onEvent: (chunk: unknown) => void,
): Promise<void> {
  const res = await request(url, { method: "POST", headers: HEADERS, body, dispatcher });
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent: (e) => {
      if (e.data !== "[DONE]") onEvent(JSON.parse(e.data));
    },
  });
  for await (const bytes of res.body) parser.feed(decoder.decode(bytes as Buffer, { stream: true }));
}

const EVENT_START = Buffer.from("data: {");

/**
 * The floor: HTTP only, no SSE parsing and no JSON. It counts events by their "data: {" prefix
 * (one split across two reads goes uncounted, which is rare and only makes the floor look lower).
 * Whatever loop lag this client shows comes from the machine and the transport, not from parsing.
 */
export function transportStream(
  dispatcher: Dispatcher,
  url: URL,
  body: string,
  onEvents: (n: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(
      { origin: url.origin, path: url.pathname, method: "POST", headers: HEADERS, body },
      {
        onRequestStart() {},
        onResponseStart() {},
        onResponseData(_c, chunk: Buffer) {
          let n = 0;
          for (let i = chunk.indexOf(EVENT_START); i !== -1; i = chunk.indexOf(EVENT_START, i + 7)) n++;
          onEvents(n);
        },
        onResponseEnd: () => resolve(),
        onResponseError: (_c, err) => reject(err),
      },
    );
  });
}
