import { appendFileSync } from "node:fs";
import { StreamsloProxy } from "../proxy/proxy-server.js";
import { UsageError } from "./exit-codes.js";
import { fileErrorWords } from "./file-errors.js";
import { loadSlo } from "./slo-option.js";

export interface ProxyFlags {
  upstream: string;
  listen: { host: string; port: number };
  adminListen: { host: string; port: number };
  service?: string;
  models?: string;
  maxStreams: number;
  timeout: number;
  slo?: string;
  logFile?: string;
  otlpEndpoint?: string;
  drain: number;
  maxRequestMb: number;
  logPrefixHashes?: boolean;
}

/** Runs the proxy until SIGINT/SIGTERM, then drains in-flight streams. */
export async function proxyCommand(f: ProxyFlags): Promise<number> {
  let upstream: URL;
  try {
    upstream = new URL(f.upstream);
  } catch {
    throw new UsageError(
      `--upstream "${f.upstream}" is not a URL; pass e.g. --upstream http://127.0.0.1:8000`,
    );
  }
  if (upstream.protocol !== "http:" && upstream.protocol !== "https:") {
    throw new UsageError(`--upstream "${f.upstream}" is not an http(s) URL`);
  }
  // Each request goes upstream on its own path (/v1/chat/completions), so a path here would be lost.
  if (upstream.pathname !== "/" || upstream.search !== "") {
    throw new UsageError(
      `--upstream "${f.upstream}" has a path; the proxy forwards each request's own path, so give the server's origin: --upstream ${upstream.origin}`,
    );
  }
  if (f.logFile !== undefined) {
    // Found unwritable now, in one line, rather than as an error event once the proxy runs.
    try {
      appendFileSync(f.logFile, "");
    } catch (err) {
      throw new UsageError(`cannot write --log-file ${f.logFile}: ${fileErrorWords(err)}; check the path`);
    }
  }
  // An empty variable is the usual way to turn export off.
  const otlp = f.otlpEndpoint ?? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined);
  if (otlp !== undefined && !/^https?:\/\/./.test(otlp)) {
    const source = f.otlpEndpoint !== undefined ? "--otlp-endpoint" : "OTEL_EXPORTER_OTLP_ENDPOINT";
    throw new UsageError(`${source} "${otlp}" is not an http(s) URL; pass e.g. http://127.0.0.1:4318`);
  }
  const slo = f.slo ? loadSlo([f.slo]) : undefined;
  // The SLO file's rules and dashboards select its service: the proxy's series must carry it too.
  const sloService = slo?.production?.service;
  const service = f.service ?? sloService ?? "streamslo";
  if (sloService !== undefined && service !== sloService) {
    process.stderr.write(
      `streamslo proxy: warning: --service ${service}, but ${f.slo}'s rules and dashboards select service="${sloService}": drop --service to use it\n`,
    );
  }
  const proxy = new StreamsloProxy({
    upstream: upstream.origin,
    host: f.listen.host,
    port: f.listen.port,
    adminHost: f.adminListen.host,
    adminPort: f.adminListen.port,
    service,
    models: f.models
      ?.split(",")
      .map((m) => m.trim())
      .filter(Boolean),
    maxStreams: f.maxStreams,
    upstreamTimeoutMs: f.timeout * 1000,
    maxHeaderBytes: 16 * 1024,
    maxBodyBytes: Math.round(f.maxRequestMb * 1024 * 1024),
    logPrefixHashes: f.logPrefixHashes === true,
    slo,
    logFile: f.logFile,
    otlpEndpoint: otlp,
    drainMs: f.drain * 1000,
  });
  // Listened for before the start-up line: a supervisor that reads it may signal at once.
  const stopAsked = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  let urls: { url: string; adminUrl: string };
  try {
    urls = await proxy.start();
  } catch (err) {
    // The listener that did bind must not keep the process serving half a proxy.
    await proxy.stop();
    const e = err as NodeJS.ErrnoException;
    if (e.syscall !== "listen") throw err; // a bug, not a port: keep its stack
    throw new UsageError(
      `cannot listen: ${e.code ?? e.message} (${e.message}); choose another --listen or --admin-listen port`,
    );
  }
  process.stderr.write(
    `streamslo proxy: ${urls.url} -> ${upstream.origin} (service ${service}); metrics at ${urls.adminUrl}/metrics\n`,
  );
  await stopAsked;
  process.stderr.write("streamslo proxy: draining in-flight streams\n");
  await proxy.stop();
  return 0;
}
