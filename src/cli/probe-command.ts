import { shownUrl } from "../client/endpoint.js";
import { type ProbeTimeline, probeOnce } from "../client/probe.js";
import { buildRequestBody } from "../client/request-body.js";
import { shownText } from "../core/shown-text.js";
import { requestInput } from "../core/workload.js";
import { EXIT } from "./exit-codes.js";
import { interruptSignal } from "./interrupt.js";
import { resolveTarget, type TargetFlags } from "./target-options.js";

export interface ProbeFlags extends TargetFlags {
  repeat: number;
  json: boolean;
}

const STEPS: [keyof ProbeTimeline, string][] = [
  ["dnsMs", "dns lookup"],
  ["connectMs", "tcp connect"],
  ["tlsMs", "tls handshake"],
  ["sentMs", "request sent"],
  ["headersMs", "response headers"],
  ["firstContentMs", "first token"],
  ["lastContentMs", "last token"],
  ["endMs", "stream end"],
];

function fmt(v: unknown): string {
  return typeof v === "number" ? v.toFixed(2) : "-";
}

function why(key: keyof ProbeTimeline, t: ProbeTimeline, https: boolean): string {
  if (t[key] !== undefined) return "";
  if (key === "dnsMs") return "  (IP address: no lookup)";
  if (key === "tlsMs" && !https) return "  (plain http)";
  return "";
}

/** The timeline of one probe as an aligned list: when each step happened, and the gap since the last. */
export function timelineText(t: ProbeTimeline, https: boolean): string {
  const lines: string[] = [];
  let prev = 0;
  for (const [key, name] of STEPS) {
    const at = t[key] as number | undefined;
    const delta = at === undefined ? "" : `+${(at - prev).toFixed(2)}`;
    if (at !== undefined) prev = at;
    lines.push(`  ${name.padEnd(17)} ${fmt(at).padStart(10)} ms ${delta.padStart(10)}${why(key, t, https)}`);
  }
  const outcome = t.error ? `${t.outcome} (${t.error.code}: ${shownText(t.error.message)})` : t.outcome;
  lines.push(
    `  prompt ${t.promptTokens ?? "-"} tokens; output ${t.outputTokens ?? "-"} (${t.tokenSource}) in ${t.chunks} chunks; status ${t.status ?? "-"}; ${outcome}`,
  );
  return lines.join("\n");
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export async function probeCommand(f: ProbeFlags): Promise<number> {
  // Ctrl-C cuts the probe in flight short and prints what was measured up to then.
  const timelines: ProbeTimeline[] = [];
  let probing = false;
  const interrupt = interruptSignal(() =>
    probing ? "cutting the probe short; printing what was measured" : "stopping before the first request",
  );
  let target: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    target = await resolveTarget(f, interrupt.signal);
  } catch (err) {
    interrupt.dispose();
    if (interrupt.signal.aborted) return EXIT.interrupted;
    throw err;
  }
  const https = target.endpoint.origin.startsWith("https:");
  probing = true;
  try {
    for (let i = 0; i < f.repeat && !interrupt.signal.aborted; i++) {
      const body = buildRequestBody(target.generation, requestInput(target.workload, i));
      timelines.push(
        await probeOnce(
          {
            endpoint: target.endpoint,
            stream: target.generation.stream,
            apiKey: target.apiKey,
            headersTimeoutMs: target.headersTimeoutMs,
            bodyTimeoutMs: target.bodyTimeoutMs,
            maxRequestMs: target.maxRequestMs,
            maxResponseBytes: target.maxResponseBytes,
            signal: interrupt.signal,
          },
          body,
          target.tls,
        ),
      );
    }
  } finally {
    interrupt.dispose();
    await target.sim?.close();
  }
  // Medians of the whole probes: a failed or cut-short one would pull "stream end" to its abort.
  const ok = timelines.filter((t) => t.outcome === "ok");
  const counted = ok.length > 0 ? ok : timelines;
  const medians = Object.fromEntries(
    STEPS.map(([key]) => [
      key,
      median(counted.map((t) => t[key]).filter((v): v is number => typeof v === "number")),
    ]),
  );
  if (f.json) {
    const url = shownUrl(target.endpoint);
    process.stdout.write(
      `${JSON.stringify({ url, model: target.model, probes: timelines, medians, medians_of: ok.length > 0 ? "ok" : "failed", medians_count: counted.length }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`probe ${shownUrl(target.endpoint)} model ${target.model}\n`);
    timelines.forEach((t, i) => {
      if (f.repeat > 1) process.stdout.write(`#${i + 1}${t.remoteAddress ? ` ${t.remoteAddress}` : ""}\n`);
      process.stdout.write(`${timelineText(t, https)}\n`);
    });
    if (timelines.length > 1) {
      const left = timelines.length - counted.length;
      process.stdout.write(
        ok.length === 0
          ? `median of ${counted.length} failed probes (not one succeeded): each step up to where they failed\n`
          : `median of ${counted.length}${left > 0 ? ` (${left} not ok, left out)` : ""}\n`,
      );
      for (const [key, name] of STEPS)
        process.stdout.write(`  ${name.padEnd(17)} ${fmt(medians[key]).padStart(10)} ms\n`);
    }
  }
  if (interrupt.signal.aborted) return EXIT.interrupted;
  const failed = timelines.filter((t) => t.outcome !== "ok");
  if (failed.length === timelines.length && failed[0]?.error) {
    process.stderr.write(
      `streamslo: the probe failed: ${failed[0].error.code}: ${shownText(failed[0].error.message)}\n`,
    );
    return EXIT.endpoint;
  }
  return EXIT.ok;
}
