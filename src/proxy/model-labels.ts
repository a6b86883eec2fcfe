import { request } from "undici";

/**
 * Bounded model label values: a request's model becomes its label only when it is on the
 * allowlist (or, without one, among the models the upstream lists); anything else is "other",
 * so a client cannot blow up the metrics' cardinality by inventing model names.
 */
export class ModelLabels {
  private known: Set<string>;

  /** onLearn: called once per model the upstream's list adds after construction. */
  constructor(
    allowlist: string[] | undefined,
    private readonly upstream: string,
    private readonly onLearn: (model: string) => void = () => {},
  ) {
    this.known = new Set(allowlist ?? []);
    this.fixed = allowlist !== undefined && allowlist.length > 0;
  }

  private readonly fixed: boolean;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;

  /** Learns the upstream's models from GET /v1/models (no-op with an allowlist). */
  async refresh(): Promise<void> {
    if (this.fixed) return;
    this.lastRefreshMs = performance.now();
    try {
      const res = await request(`${this.upstream}/v1/models`, { headersTimeout: 3000, bodyTimeout: 3000 });
      const doc = (await res.body.json()) as { data?: { id?: unknown }[] };
      for (const m of doc.data ?? [])
        if (typeof m.id === "string" && !this.known.has(m.id) && this.known.size < 100) {
          this.known.add(m.id);
          this.onLearn(m.id);
        }
    } catch {
      // Upstream not up yet: keep what we know; the next refresh tries again.
    }
  }

  /**
   * A request that names no model is served the upstream's only model, when it has one (llama.cpp,
   * a single-model vLLM), so it takes that label; with several, which one answers is unknown.
   */
  label(model: unknown): string {
    if (model === undefined && this.known.size === 1) return this.known.values().next().value as string;
    if (typeof model === "string" && this.known.has(model)) return model;
    // A model not seen yet (the upstream was down at start, or has loaded a new one): ask again soon
    // rather than label every request "other" until the next periodic refresh; at most every 5 s.
    if (!this.fixed && performance.now() - this.lastRefreshMs > RETRY_MS) void this.refresh();
    return "other";
  }
}

const RETRY_MS = 5000;

export const LLM_ROUTES: ReadonlySet<string> = new Set(["/v1/chat/completions", "/v1/completions"]);
const KNOWN_ROUTES = new Set([...LLM_ROUTES, "/v1/embeddings", "/v1/models", "/health", "/metrics"]);

/** The route label: a known path, or "other" (never the raw path: unbounded). */
export function routeLabel(path: string): string {
  return KNOWN_ROUTES.has(path) ? path : "other";
}

export function isLlmRoute(method: string | undefined, path: string): boolean {
  return method === "POST" && LLM_ROUTES.has(path);
}
