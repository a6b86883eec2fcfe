import { rootCertificates } from "node:tls";
import { Agent } from "undici";

/**
 * Which TLS certificates a run trusts: Node's CA store (plus NODE_EXTRA_CA_CERTS, which Node reads at
 * start-up), a CA the user names (`--ca-file`, for a self-signed or private CA), or none at all
 * (`--insecure`, which the run records).
 */
export interface TlsTrust {
  /** PEM text of extra CA certificates, trusted besides Node's own. */
  ca?: string;
  /** false with --insecure: certificates are not verified. */
  rejectUnauthorized: boolean;
}

/** The connect options undici takes for `trust`; undefined for Node's defaults. */
export function connectOptions(
  trust: TlsTrust | undefined,
): { ca?: string[]; rejectUnauthorized: boolean } | undefined {
  if (trust === undefined || (trust.ca === undefined && trust.rejectUnauthorized)) return undefined;
  return {
    rejectUnauthorized: trust.rejectUnauthorized,
    // Node's own roots stay trusted: a CA file adds to them, as NODE_EXTRA_CA_CERTS does.
    ...(trust.ca !== undefined ? { ca: [...rootCertificates, trust.ca] } : {}),
  };
}

/** An undici Agent that trusts what `trust` says, pooled as the run's generation requests are. */
export function tlsAgent(trust: TlsTrust | undefined): Agent {
  const connect = connectOptions(trust);
  return new Agent({
    keepAliveTimeout: 30_000,
    connections: null,
    pipelining: 1,
    ...(connect ? { connect } : {}),
  });
}

/** The certificate problem behind a TLS failure, in words: what it is, not only Node's code for it. */
export function tlsCause(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code ?? "";
  const words: Record<string, string> = {
    DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
    SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed CA that is not trusted",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is signed by a CA that is not trusted",
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by a CA that is not trusted",
    CERT_HAS_EXPIRED: "the server's certificate has expired",
    ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another host name",
  };
  return `${words[code] ?? e.cause?.message ?? e.message ?? "TLS failed"}${code ? ` (${code})` : ""}`;
}
