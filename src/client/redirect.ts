/**
 * What to do with a redirect answer to a generation POST (RFC 9110 section 15.4). 307 and 308 keep
 * the method and the body, so they are followed; 301, 302 and 303 let clients turn a POST into a GET
 * (and a gateway that answers one to a POST has moved the API), so they are not.
 */

/** At most this many redirects per request, as browsers and curl bound a chain (they allow more). */
export const MAX_REDIRECTS = 5;

export type RedirectStep = { kind: "follow"; url: URL } | { kind: "refuse"; message: string };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The step for a redirect status; `hops` is how many this request has already followed. */
export function redirectStep(
  status: number,
  location: string | string[] | undefined,
  from: URL,
  hops: number,
): RedirectStep {
  const raw = headerValue(location);
  if (raw === undefined || raw.trim() === "")
    return { kind: "refuse", message: `HTTP ${status} without a Location header` };
  let to: URL;
  try {
    to = new URL(raw.trim(), from);
  } catch {
    return { kind: "refuse", message: `HTTP ${status} to an unusable Location` };
  }
  const where = `${to.origin}${to.pathname}`;
  if (status !== 307 && status !== 308)
    return {
      kind: "refuse",
      message: `HTTP ${status}: redirects to ${where}, which a POST does not follow (it may become a GET); give --url ${where} instead`,
    };
  if (to.protocol !== "http:" && to.protocol !== "https:")
    return { kind: "refuse", message: `HTTP ${status} to ${to.protocol} is not followed` };
  if (from.protocol === "https:" && to.protocol === "http:")
    return { kind: "refuse", message: `HTTP ${status}: from https to plain http (${where}) is not followed` };
  if (hops >= MAX_REDIRECTS)
    return {
      kind: "refuse",
      message: `HTTP ${status}: more than ${MAX_REDIRECTS} redirects (the last to ${where})`,
    };
  return { kind: "follow", url: to };
}
