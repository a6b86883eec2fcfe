import { createServer, type Server } from "node:http";
import { type Listening, listenOnLoopback } from "./loopback.js";
import { chat } from "./scheduled-server.js";

export interface LlamaCppLike extends Listening {
  /** The most requests it ever processed at once. */
  peakProcessing(): number;
}

/**
 * A loopback server shaped like llama.cpp's llama-server: SSE answers of `tokens` tokens `gapMs`
 * apart, usage on the finish chunk, and a /metrics page with its names (requests_processing now,
 * and prompt/predicted token and second counters that advance as it works).
 */
export async function startLlamaCppLike(
  tokens: number,
  gapMs: number,
  promptTokens = 20,
): Promise<LlamaCppLike> {
  let processing = 0;
  let peak = 0;
  const c = { promptTokens: 0, promptSeconds: 0, predicted: 0, predictedSeconds: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(
          [
            "# TYPE llamacpp:prompt_tokens_total counter",
            `llamacpp:prompt_tokens_total ${c.promptTokens}`,
            "# TYPE llamacpp:prompt_seconds_total counter",
            `llamacpp:prompt_seconds_total ${c.promptSeconds}`,
            "# TYPE llamacpp:tokens_predicted_total counter",
            `llamacpp:tokens_predicted_total ${c.predicted}`,
            "# TYPE llamacpp:tokens_predicted_seconds_total counter",
            `llamacpp:tokens_predicted_seconds_total ${c.predictedSeconds}`,
            "# TYPE llamacpp:requests_processing gauge",
            `llamacpp:requests_processing ${processing}`,
            "# TYPE llamacpp:requests_deferred gauge",
            "llamacpp:requests_deferred 0",
            "",
          ].join("\n"),
        );
        return;
      }
      if (req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "m" }] }));
        return;
      }
      processing++;
      peak = Math.max(peak, processing);
      c.promptTokens += promptTokens;
      c.promptSeconds += promptTokens * 0.0001;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${chat.role()}\n\n`);
      let i = 0;
      const timer = setInterval(() => {
        i++;
        c.predicted++;
        c.predictedSeconds += gapMs / 1000;
        const last = i === tokens;
        res.write(`data: ${chat.token(`t${i}`, last ? "stop" : null)}\n\n`);
        if (!last) return;
        clearInterval(timer);
        processing--;
        res.end(`data: ${chat.usage(promptTokens, tokens)}\n\ndata: [DONE]\n\n`);
      }, gapMs);
      res.on("close", () => clearInterval(timer));
    });
  });
  const l = await listenOnLoopback(server, () => server.closeAllConnections());
  return { ...l, peakProcessing: () => peak };
}
