import { request } from "undici";

export class PrometheusError extends Error {}

/** Prometheus answered, and refused the query itself: a question to change, not a server to reach. */
export class PrometheusQueryError extends PrometheusError {}

interface ApiResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  };
}

async function call(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<ApiResponse["data"]> {
  const url = `${base.replace(/\/$/, "")}${path}?${new URLSearchParams(params)}`;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { headersTimeout: 30_000, bodyTimeout: 30_000 });
  } catch (err) {
    throw new PrometheusError(`cannot reach Prometheus at ${base}: ${(err as Error).message}`);
  }
  const text = await res.body.text();
  let doc: ApiResponse;
  try {
    doc = JSON.parse(text) as ApiResponse;
  } catch {
    throw new PrometheusError(`${base} is not a Prometheus API (HTTP ${res.statusCode}, not JSON)`);
  }
  if (doc.status !== "success")
    throw new PrometheusQueryError(`Prometheus rejected the query: ${doc.error ?? res.statusCode}`);
  return doc.data;
}

/** One number from an instant query (the first series), or null when the result is empty. */
export async function queryScalar(base: string, query: string, timeS: number): Promise<number | null> {
  const data = await call(base, "/api/v1/query", { query, time: String(timeS) });
  const v = data?.result[0]?.value?.[1];
  return v === undefined || Number.isNaN(Number(v)) ? null : Number(v);
}

/** A range query's first series aligned to the steps from start to end (null where missing). */
export async function queryRangeAligned(
  base: string,
  query: string,
  startS: number,
  endS: number,
  stepS: number,
): Promise<(number | null)[]> {
  const data = await call(base, "/api/v1/query_range", {
    query,
    start: String(startS),
    end: String(endS),
    step: String(stepS),
  });
  const n = Math.floor((endS - startS) / stepS) + 1;
  const out: (number | null)[] = new Array(n).fill(null);
  for (const [t, v] of data?.result[0]?.values ?? []) {
    const i = Math.round((t - startS) / stepS);
    const x = Number(v);
    if (i >= 0 && i < n && Number.isFinite(x)) out[i] = x;
  }
  return out;
}
