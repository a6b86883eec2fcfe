/** streamslo's library API: everything the CLI uses is here for programs too. */
export { Clock } from "./client/clock.js";
export { type Api, type Endpoint, resolveEndpoint } from "./client/endpoint.js";
export { type RequestMeta, type SendOptions, sendGeneration } from "./client/generation-client.js";
export { type Discovery, discoverModels } from "./client/model-discovery.js";
export { type ProbeTimeline, probeOnce } from "./client/probe.js";
export { buildRequestBody, type GenerationParams } from "./client/request-body.js";
export { type ArrivalSpec, arrivalTimes } from "./core/arrivals.js";
export { type FluidityDeadlines, fluidityIndex } from "./core/fluidity.js";
export { Distribution, type SerializedDistribution, type Stats } from "./core/histogram.js";
export { LevelAggregate, type LevelInfo, type LevelSummary } from "./core/level-aggregate.js";
export { type Objective, parseObjective } from "./core/objective.js";
export { type ChunkInfo, interpretChunk } from "./core/openai-chunk.js";
export { classifyCompletion, classifyStream } from "./core/outcome.js";
export { type PlaybackModel, playback } from "./core/playback.js";
export type { ErrorCode, Outcome, RequestRecord } from "./core/record.js";
export { type RequestMetrics, requestMetrics } from "./core/request-metrics.js";
export { judgeRequest } from "./core/request-slo.js";
export { evaluateObjectives, type ObjectiveResult } from "./core/slo-eval.js";
export { parseSloYaml, type SloSpec, sloFileSchema } from "./core/slo-spec.js";
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
export { runAutoSweep } from "./load/sweep.js";
export { BatchEngine, type EngineParams } from "./sim/engine.js";
export { PRESETS, type SimParams, simParams } from "./sim/presets.js";
export { type SimServer, startSimServer } from "./sim/sim-server.js";
