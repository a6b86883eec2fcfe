import { Agent, type Dispatcher } from "undici";
import { Http1Pool } from "./http1-pool.js";

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
export function generationDispatcher(origin: string): GenerationDispatcher {
  if (origin.startsWith("http:")) return new Http1Pool(origin);
  return new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
}
