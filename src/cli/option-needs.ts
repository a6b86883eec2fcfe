import type { Command } from "commander";
import { UsageError } from "./exit-codes.js";

/** Options (by attribute name) that act only with another option, or only without one. */
interface Rule {
  options: string[];
  needs?: string;
  without?: string;
  /** What the options act on, when `without` is given: "a run folder", "the embedded simulator". */
  actsOn?: string;
  /** Acts only when this option has one of these values. */
  needsValue?: { option: string; values: string[] };
}

/** The embedded simulator's shape: with --url there is no simulator to shape. */
const SIM_OPTIONS = [
  "simPreset",
  "simSeed",
  "simModel",
  "simApiKey",
  "simSlots",
  "simKvTokens",
  "simDecodeMs",
  "simDecodeMsPerSeq",
  "simTokensPerChunk",
  "fault5xx",
  "faultDrop",
  "faultStall",
  "stallMs",
  "faultSlowFirstByte",
  "slowFirstByteMs",
  "faultInbandError",
  "simRtf",
  "simRtfPerStream",
  "simSttWer",
  "simSttPartialMs",
  "simSttFinalMs",
];

/** Request options of bench and probe alike. */
const REQUEST_RULES: Rule[] = [
  { options: SIM_OPTIONS, without: "url", actsOn: "the embedded simulator" },
  { options: ["stallMs"], needs: "faultStall" },
  { options: ["slowFirstByteMs"], needs: "faultSlowFirstByte" },
  { options: ["datasetFormat"], needs: "dataset" },
  { options: ["sharedPrefix", "tokenizer"], needs: "inputTokens" },
  { options: ["prefixGroups"], needs: "sharedPrefix" },
  { options: ["ignoreEos"], needs: "outputTokens" },
];

const STT = [
  "adapter",
  "audio",
  "frameMs",
  "reference",
  "referenceFile",
  "language",
  "finalIdleMs",
  "targetFirstPartialMs",
  "targetFinalMs",
  "targetRtf",
];
const TTS = ["ttsText", "voice", "ttsFormat", "ttsSampleRate", "ttsBufferMs", "targetFirstAudioMs"];
/** Text generation's own flags: a speech run sends no prompt and reads no tokens. */
const TEXT = [
  "api",
  "stream",
  "maxTokens",
  "outputTokens",
  "inputTokens",
  "sharedPrefix",
  "prefixGroups",
  "tokenizer",
  "dataset",
  "ignoreEos",
  "prompt",
  "promptFile",
  "temperature",
  "extraBody",
  "maxResponseMb",
  "baseline",
  "serverMetrics",
  "csv",
  "maxErrorRate",
  "maxSendLagMs",
  "maxLoopLagMs",
];

/** Given alone, these options would be ignored in silence, and the user would think they took. */
const RULES: Record<string, Rule[]> = {
  bench: [
    {
      options: ["capacityMode", "capacityStart", "capacityMax", "capacityTolerance", "capacityBudget"],
      needs: "findCapacity",
    },
    { options: ["sweepLevels", "sweepMaxConcurrency"], needs: "sweep" },
    {
      options: ["traceFormat", "traceSpeed", "traceFrom", "traceTo", "traceRows", "traceBlockTokens"],
      needs: "trace",
    },
    { options: ["turns", "turnTokens", "thinkTime"], needs: "sessions" },
    ...REQUEST_RULES,
    { options: STT, needsValue: { option: "protocol", values: ["stt-ws"] } },
    { options: TTS, needsValue: { option: "protocol", values: ["tts-http"] } },
    {
      options: ["targetDropRate", "gate"],
      needsValue: { option: "protocol", values: ["stt-ws", "tts-http"] },
    },
    { options: TEXT, needsValue: { option: "protocol", values: ["openai"] } },
  ],
  probe: REQUEST_RULES,
  budget: [
    { options: ["range", "step"], needs: "prometheus" },
    { options: ["timeScale"], without: "prometheus", actsOn: "a run folder" },
  ],
  report: [{ options: ["timeScale"], needs: "slo" }],
};

const given = (cmd: Command, key: string) => {
  const source = cmd.getOptionValueSource(key);
  return source === "cli" || source === "env";
};

const flag = (cmd: Command, key: string) =>
  cmd.options.find((o) => o.attributeName() === key)?.long ?? `--${key}`;

/** Refuses, before anything runs, an option that the rest of the command line makes idle. */
export function refuseIdleOptions(cmd: Command): void {
  for (const rule of RULES[cmd.name()] ?? []) {
    const idle = rule.options.filter((o) => given(cmd, o));
    if (idle.length === 0) continue;
    const names = idle.map((o) => flag(cmd, o)).join(", ");
    const drop = idle.length === 1 ? "it" : "them";
    if (rule.needs !== undefined && !given(cmd, rule.needs)) {
      const act = idle.length === 1 ? "acts" : "act";
      throw new UsageError(`${names} ${act} only with ${flag(cmd, rule.needs)}: add it, or drop ${drop}`);
    }
    if (rule.without !== undefined && given(cmd, rule.without)) {
      const apply = idle.length === 1 ? "applies" : "apply";
      throw new UsageError(
        `${names} ${apply} to ${rule.actsOn ?? "another mode"}, not to ${flag(cmd, rule.without)}: drop ${drop}`,
      );
    }
    const v = rule.needsValue;
    if (v !== undefined && !v.values.includes(String(cmd.getOptionValue(v.option)))) {
      const act = idle.length === 1 ? "acts" : "act";
      const values = v.values.join(" or ");
      const current = cmd.getOptionValue(v.option);
      // Given with another value: that choice stands, so the flag goes; left at its default: either.
      const fix = given(cmd, v.option) ? `, not ${current}: drop ${drop}` : `: add it, or drop ${drop}`;
      throw new UsageError(`${names} ${act} only with ${flag(cmd, v.option)} ${values}${fix}`);
    }
  }
}
