import { redactUrlSecrets } from "../core/redact.js";

export type Api = "chat" | "completions";

export interface Endpoint {
  /** scheme://host:port */
  origin: string;
  /** Base path that `/models` and the generation paths hang off, e.g. "/v1". */
  basePath: string;
  api: Api;
  /** Path of the generation request, e.g. "/v1/chat/completions". */
  path: string;
  /**
   * The URL's query ("" or "?api-version=..."), sent with every request: some gateways (Azure
   * OpenAI) need one. May hold a key: print it only through redactUrlSecrets.
   */
  query: string;
}

export class EndpointUrlError extends Error {}

/** The generation URL as users may see it: query parameters named like keys are masked. */
export function shownUrl(e: Endpoint): string {
  return redactUrlSecrets(`${e.origin}${e.path}${e.query}`);
}

/**
 * Accepts a base URL ("http://h:8000", "http://h:8000/v1") or a full generation URL
 * ("http://h:8000/v1/completions"); the latter fixes the API whatever `api` says.
 */
export function resolveEndpoint(url: string, api: Api): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EndpointUrlError(`"${url}" is not a URL; pass e.g. --url http://127.0.0.1:8000/v1`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new EndpointUrlError(`"${url}" is not an http(s) URL; pass e.g. --url http://127.0.0.1:8000/v1`);
  }
  let path = u.pathname.replace(/\/+$/, "");
  let chosen = api;
  if (path.endsWith("/chat/completions")) {
    chosen = "chat";
    path = path.slice(0, -"/chat/completions".length);
  } else if (path.endsWith("/completions")) {
    chosen = "completions";
    path = path.slice(0, -"/completions".length);
  }
  if (path === "") path = "/v1";
  const suffix = chosen === "chat" ? "/chat/completions" : "/completions";
  return { origin: u.origin, basePath: path, api: chosen, path: path + suffix, query: u.search };
}
