import type { Dispatcher } from "undici";
import { Http1Pool } from "./http1-pool.js";
import { type TlsTrust, tlsAgent } from "./tls-trust.js";

/** What sendGeneration needs of a connection pool: undici's dispatch, and a close at the end. */
export interface GenerationDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}

/**
 * The pool for a run's generation requests: streamslo's own lean HTTP/1.1 connections for a
 * plain-http endpoint (see Http1Pool for why), undici for https. Unbounded: concurrency is the
 * load generator's to set, one connection per request in flight.
 */
export function generationDispatcher(origin: string, trust?: TlsTrust): GenerationDispatcher {
  // One pool per origin that a redirect may lead to; the proxy, which relays redirects, uses originPool.
  return new OriginPools(origin, trust);
}

/** The pool for one origin: Http1Pool for plain http, undici for https. */
export function originPool(origin: string, trust?: TlsTrust): GenerationDispatcher {
  if (origin.startsWith("http:")) return new Http1Pool(origin);
  return tlsAgent(trust);
}

/**
 * One pool per origin, made when first asked: the run's endpoint, and any origin a 307/308 redirect
 * leads to (an Http1Pool speaks to one origin only).
 */
class OriginPools implements GenerationDispatcher {
  private readonly pools = new Map<string, GenerationDispatcher>();
  private readonly first: GenerationDispatcher;
  private readonly firstOrigin: string;

  constructor(
    origin: string,
    private readonly trust?: TlsTrust,
  ) {
    this.firstOrigin = new URL(origin).origin;
    this.first = originPool(this.firstOrigin, trust);
    this.pools.set(this.firstOrigin, this.first);
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const o = opts.origin;
    const origin = o === undefined ? this.firstOrigin : typeof o === "string" ? o : o.origin;
    if (origin === this.firstOrigin) return this.first.dispatch(opts, handler);
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = originPool(origin, this.trust);
      this.pools.set(origin, pool);
    }
    return pool.dispatch(opts, handler);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
