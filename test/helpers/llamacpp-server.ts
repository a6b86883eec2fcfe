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
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body =
        parts.length > 0 ? (JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>) : {};
      // llama.cpp's shapes: /tokenize reads "content" (a BOS only with add_special), /apply-template
      // wraps the messages in the model's chat template. Its tokens here are words.
      const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
      if (req.url === "/tokenize") {
        const n = typeof body.content === "string" ? words(body.content) + (body.add_special ? 1 : 0) : 0;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ tokens: Array.from({ length: n }, (_, i) => i) }));
        return;
      }
      if (req.url === "/apply-template") {
        const m = (body.messages as { content: string }[] | undefined) ?? [];
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ prompt: `<|user|> ${m.map((x) => x.content).join(" ")} <|assistant|>` }));
        return;
      }
      const chatBody = body.messages as { content: string }[] | undefined;
      const promptTokensOf = chatBody
        ? 1 + words(`<|user|> ${chatBody.map((x) => x.content).join(" ")} <|assistant|>`)
        : typeof body.prompt === "string"
          ? 1 + words(body.prompt)
          : promptTokens;
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
      const usagePrompt = parts.length > 0 ? promptTokensOf : promptTokens;
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
        res.end(`data: ${chat.usage(usagePrompt, tokens)}\n\ndata: [DONE]\n\n`);
      }, gapMs);
      res.on("close", () => clearInterval(timer));
    });
  });
  const l = await listenOnLoopback(server, () => server.closeAllConnections());
  return { ...l, peakProcessing: () => peak };
}
