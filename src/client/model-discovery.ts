import { Agent, request } from "undici";
import type { Endpoint } from "./endpoint.js";
import { connectOptions, type TlsTrust, tlsCause } from "./tls-trust.js";
import { errorMessage, transportErrorCode } from "./transport-errors.js";

export type Discovery =
  | { kind: "ok"; models: string[] }
  | { kind: "no-models-route"; status: number }
  | { kind: "unreachable"; message: string }
  | { kind: "tls"; message: string }
  | { kind: "unauthorized"; status: number }
  | { kind: "not-openai"; message: string };

/**
 * Asks GET {base}/models which models the endpoint serves. This doubles as the check that the URL
 * reaches an OpenAI-compatible API at all, before any load is sent.
 */
export async function discoverModels(
  endpoint: Endpoint,
  apiKey: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
  trust?: TlsTrust,
): Promise<Discovery> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const url = `${endpoint.origin}${endpoint.basePath}/models${endpoint.query}`;
  let res: Awaited<ReturnType<typeof request>>;
  const connect = connectOptions(trust);
  const dispatcher = connect ? new Agent({ connect }) : undefined;
  let text: string;
  try {
    try {
      res = await request(url, {
        headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
    } catch (err) {
      const code = transportErrorCode(err, false);
      if (code === "tls_failed") return { kind: "tls", message: tlsCause(err) };
      return { kind: "unreachable", message: `${code} (${errorMessage(err)})` };
    }
    text = await res.body.text().catch(() => "");
  } finally {
    await dispatcher?.close().catch(() => undefined);
  }
  if (res.statusCode === 401 || res.statusCode === 403)
    return { kind: "unauthorized", status: res.statusCode };
  if (res.statusCode === 404 || res.statusCode === 405)
    return { kind: "no-models-route", status: res.statusCode };
  if (res.statusCode >= 400)
    return { kind: "not-openai", message: `GET ${url} answered HTTP ${res.statusCode}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const what = /^\s*</.test(text) ? "an HTML page" : "a body that is not JSON";
    return { kind: "not-openai", message: `GET ${url} answered ${what}` };
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) return { kind: "not-openai", message: `GET ${url} has no "data" list of models` };
  const models = data
    .map((m) => (m as { id?: unknown }).id)
    .filter((id): id is string => typeof id === "string");
  return { kind: "ok", models };
}
