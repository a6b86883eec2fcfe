import { Clock } from "../../src/client/clock.js";
import { generationDispatcher } from "../../src/client/dispatcher.js";
import { resolveEndpoint } from "../../src/client/endpoint.js";
import { sendGeneration } from "../../src/client/generation-client.js";
import { buildRequestBody } from "../../src/client/request-body.js";
import type { RequestRecord } from "../../src/core/record.js";

export interface SendOneOptions {
  stream?: boolean;
  api?: "chat" | "completions";
  timeoutMs?: number;
  keepText?: boolean;
  apiKey?: string;
}

/** Sends one generation request with the real client, on a fresh connection pool. */
export async function sendOne(url: string, o: SendOneOptions = {}): Promise<RequestRecord> {
  const endpoint = resolveEndpoint(url, o.api ?? "chat");
  const stream = o.stream ?? true;
  const agent = generationDispatcher(endpoint.origin);
  try {
    const body = buildRequestBody(
      { api: endpoint.api, model: "m", stream, ignoreEos: false },
      { prompt: "hello", maxTokens: 16, exact: false },
    );
    return await sendGeneration(
      agent,
      new Clock(),
      {
        endpoint,
        stream,
        apiKey: o.apiKey,
        headersTimeoutMs: o.timeoutMs ?? 5000,
        bodyTimeoutMs: o.timeoutMs ?? 5000,
        keepText: o.keepText,
      },
      body,
      { id: "t", scenario: "test", phase: "measure", intendedStartMs: 0 },
    );
  } finally {
    await agent.close();
  }
}
