import type { ErrorCode } from "../core/record.js";

/** Maps a transport error (undici or Node) to a stable code; `afterHeaders` separates drops from refusals. */
export function transportErrorCode(err: unknown, afterHeaders: boolean): ErrorCode {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? "";
  if (e.name === "AbortError" || code === "UND_ERR_ABORTED" || code === "ABORT_ERR") return "aborted";
  if (code === "UND_ERR_HEADERS_TIMEOUT") return "headers_timeout";
  if (code === "UND_ERR_BODY_TIMEOUT") return "body_timeout";
  // Headers that never end, or a body over undici's own cap: the client stops holding them.
  if (code === "UND_ERR_HEADERS_OVERFLOW" || code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return "response_too_large";
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT") return "connect_timeout";
  if (code === "ECONNREFUSED") return "connect_refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns_failed";
  if (code.startsWith("ERR_TLS") || code.includes("CERT") || code.startsWith("ERR_SSL")) return "tls_failed";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CLOSED") {
    return afterHeaders ? "stream_reset" : "connect_reset";
  }
  return afterHeaders ? "stream_reset" : "client_error";
}

export function errorMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  const msg = e.message ?? String(err);
  return e.cause?.message && !msg.includes(e.cause.message) ? `${msg}: ${e.cause.message}` : msg;
}
