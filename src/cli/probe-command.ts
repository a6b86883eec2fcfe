import { type ProbeTimeline, probeOnce } from "../client/probe.js";
import { buildRequestBody } from "../client/request-body.js";
import { requestInput } from "../core/workload.js";
import { EXIT } from "./exit-codes.js";
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
  const outcome = t.error ? `${t.outcome} (${t.error.code}: ${t.error.message})` : t.outcome;
  lines.push(
    `  tokens ${t.outputTokens ?? "-"} (${t.tokenSource}) in ${t.chunks} chunks; status ${t.status ?? "-"}; ${outcome}`,
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
  const target = await resolveTarget(f);
  const https = target.endpoint.origin.startsWith("https:");
  const timelines: ProbeTimeline[] = [];
  try {
    for (let i = 0; i < f.repeat; i++) {
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
          },
          body,
        ),
      );
    }
  } finally {
    await target.sim?.close();
  }
  const medians = Object.fromEntries(
    STEPS.map(([key]) => [
      key,
      median(timelines.map((t) => t[key]).filter((v): v is number => typeof v === "number")),
    ]),
  );
  if (f.json) {
    const url = `${target.endpoint.origin}${target.endpoint.path}`;
    process.stdout.write(
      `${JSON.stringify({ url, model: target.model, probes: timelines, medians }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`probe ${target.endpoint.origin}${target.endpoint.path} model ${target.model}\n`);
    timelines.forEach((t, i) => {
      if (f.repeat > 1) process.stdout.write(`#${i + 1}${t.remoteAddress ? ` ${t.remoteAddress}` : ""}\n`);
      process.stdout.write(`${timelineText(t, https)}\n`);
    });
    if (f.repeat > 1) {
      process.stdout.write(`median of ${f.repeat}\n`);
      for (const [key, name] of STEPS)
        process.stdout.write(`  ${name.padEnd(17)} ${fmt(medians[key]).padStart(10)} ms\n`);
    }
  }
  const failed = timelines.filter((t) => t.outcome !== "ok");
  if (failed.length === timelines.length && failed[0]?.error) {
    process.stderr.write(
      `streamslo: the probe failed: ${failed[0].error.code}: ${failed[0].error.message}\n`,
    );
    return EXIT.endpoint;
  }
  return EXIT.ok;
}
