/** streamslo's library API: everything the CLI uses is here for programs too. */
export { Clock } from "./client/clock.js";
export { type GenerationDispatcher, generationDispatcher } from "./client/dispatcher.js";
export { type Api, type Endpoint, resolveEndpoint, shownUrl } from "./client/endpoint.js";
export { type RequestMeta, type SendOptions, sendGeneration } from "./client/generation-client.js";
export { Http1Pool } from "./client/http1-pool.js";
export { type Discovery, discoverModels } from "./client/model-discovery.js";
export { type ProbeTimeline, probeOnce } from "./client/probe.js";
export { buildRequestBody, type GenerationParams } from "./client/request-body.js";
export { type SttStreamOptions, streamStt } from "./client/speech/stt-stream.js";
export { streamTts, type TtsStreamOptions } from "./client/speech/tts-stream.js";
export { type ArrivalSpec, arrivalTimes } from "./core/arrivals.js";
export { parseDurationMs } from "./core/duration.js";
export { type FluidityDeadlines, fluidityIndex } from "./core/fluidity.js";
export { Distribution, type SerializedDistribution, type Stats } from "./core/histogram.js";
export { LevelAggregate, type LevelInfo, type LevelSummary } from "./core/level-aggregate.js";
export { type Objective, parseObjective } from "./core/objective.js";
export { type ChunkInfo, interpretChunk } from "./core/openai-chunk.js";
export { classifyCompletion, classifyStream } from "./core/outcome.js";
export { type PlaybackModel, playback } from "./core/playback.js";
export type { ErrorCode, Outcome, RequestRecord } from "./core/record.js";
export type { ReportInput, ReportLevel, RunStopView } from "./core/report/report-input.js";
export { reportMarkdown } from "./core/report/report-markdown.js";
export { type RequestMetrics, requestMetrics } from "./core/request-metrics.js";
export { judgeRequest } from "./core/request-slo.js";
export { createRng } from "./core/rng.js";
export { compareRuns, type RunComparison, samplesFromRecords } from "./core/run-compare.js";
export { analyzeBudget, type BudgetAnalysis } from "./core/slo/budget-analysis.js";
export { type DashboardOptions, grafanaDashboard } from "./core/slo/grafana-dashboard.js";
export type { ProductionSlo, ProductionSpec } from "./core/slo/production-spec.js";
export { prometheusRules } from "./core/slo/prometheus-rules.js";
export { promtoolTests } from "./core/slo/promtool-tests.js";
export { recordEvents, SliEventCollector } from "./core/slo/sli-events.js";
export { evaluateObjectives, type ObjectiveResult } from "./core/slo-eval.js";
export { parseSloYaml, type SloSpec, sloFileSchema } from "./core/slo-spec.js";
export { SpeechAggregate, type SpeechLevelSummary } from "./core/speech/speech-aggregate.js";
export { sttMetrics, ttsMetrics } from "./core/speech/speech-metrics.js";
export type { SpeechRecord, SttRecord, TtsRecord } from "./core/speech/speech-record.js";
export { STT_PROTOCOLS, type SttProtocol } from "./core/speech/stt-protocols.js";
export { VOICE_TARGETS, type VoiceTargets } from "./core/speech/voice-targets.js";
export { parseWav, resample, toneUtterance } from "./core/speech/wav.js";
export { wer, wordErrors } from "./core/speech/wer.js";
export { StreamAccumulator, type StreamSummary } from "./core/stream-accumulator.js";
export { DEFAULT_PROMPT, requestInput, type Workload } from "./core/workload.js";
export {
  type BenchHooks,
  type BenchPlan,
  type BenchResult,
  BenchRunner,
  type LevelResult,
  type LoadLevel,
  runBench,
} from "./load/bench-run.js";
export { type CapacityResult, findCapacity } from "./load/capacity-search.js";
export { runClosedLoop } from "./load/closed-loop.js";
export { runOpenLoop } from "./load/open-loop.js";
export { type SpeechPlan, SpeechRunner } from "./load/speech-run.js";
export { runAutoSweep } from "./load/sweep.js";
export { reportHtml } from "./output/report-html.js";
export { loadReportInput } from "./output/report-reader.js";
export { readRun, readSummaryDocument, streamRecords } from "./output/run-reader.js";
export { type ProxyOptions, StreamsloProxy } from "./proxy/proxy-server.js";
export { BatchEngine, type EngineParams } from "./sim/engine.js";
export { PRESETS, type SimParams, simParams } from "./sim/presets.js";
export { type SimServer, startSimServer } from "./sim/sim-server.js";
