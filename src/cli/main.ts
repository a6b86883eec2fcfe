import { Command, CommanderError, Option } from "commander";
import { sloJsonSchema } from "../core/slo-schema.js";
import { VERSION } from "../version.js";
import { type BenchFlags, benchCommand } from "./bench-command.js";
import { EndpointError, EXIT, UsageError } from "./exit-codes.js";
import { fileProblem } from "./file-errors.js";
import {
  durationOrZeroSeconds,
  durationSeconds,
  hostPort,
  lengthOption,
  nonEmpty,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveIntList,
  positiveNumber,
  positiveNumberList,
  probability,
  timeLimitSeconds,
  timeScale,
} from "./option-parsers.js";

const collect = (value: string, previous: string[]) => [...previous, value];

import { parseLength } from "../core/length-distribution.js";
import { redactUrlSecrets } from "../core/redact.js";
import { shownText } from "../core/shown-text.js";
import { MOONCAKE_BLOCK_TOKENS } from "../core/trace.js";
import { type BudgetFlags, budgetCommand } from "./budget-command.js";
import { type CompareFlags, compareCommand } from "./compare-command.js";
import { type DashboardFlags, dashboardCommand } from "./dashboard-command.js";
import { type DoctorFlags, doctorCommand } from "./doctor-command.js";
import { refuseIdleOptions } from "./option-needs.js";
import { type ProbeFlags, probeCommand } from "./probe-command.js";
import { type ProxyFlags, proxyCommand } from "./proxy-command.js";
import { type ReportFlags, reportCommand } from "./report-command.js";
import { type RulesFlags, rulesCommand } from "./rules-command.js";
import { type SimCommandFlags, simCommand } from "./sim-command.js";
import { addSimOptions } from "./sim-options.js";
import { addSpeechOptions } from "./speech-options.js";
import { addTargetOptions } from "./target-options.js";

/** A host:port option on loopback by default; help shows the default as host:port, not as an object. */
function listenOption(flags: string, description: string, port: number): Option {
  return new Option(flags, description)
    .argParser(hostPort)
    .default({ host: "127.0.0.1", port }, `127.0.0.1:${port}`);
}

function program(setExit: (code: number) => void): Command {
  const p = new Command("streamslo")
    .description("Measure streaming LLM endpoints the way users feel them, and hold them to SLOs.")
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .hook("preAction", (_root, action) => refuseIdleOptions(action))
    .configureOutput({
      // Commander's own errors are one line already; make them say where to look next. They quote
      // the flag's value, which may be a URL with a key in it.
      outputError: (str, write) =>
        write(`streamslo: ${redactUrlSecrets(str.replace(/^error: /, "").trimEnd())} (see --help)\n`),
    });

  addSpeechOptions(
    addTargetOptions(
      p
        .command("bench")
        .description(
          "load an endpoint at each level and report TTFT, TPOT, ITL, E2E, throughput, goodput and SLO verdicts",
        )
        .option(
          "-c, --concurrency <list>",
          "closed loop: concurrency levels, e.g. 1,4,8 (default)",
          positiveIntList,
        )
        .option("-r, --rate <list>", "open loop: request rates per second, e.g. 1,2,4", positiveNumberList)
        .option(
          "--trace <file>",
          "replay a trace on its timeline: Mooncake-style JSONL, the Azure CSV, or streamslo proxy's request log",
        )
        .addOption(
          new Option(
            "--trace-format <format>",
            "trace format (default: from the name and first line)",
          ).choices(["mooncake", "azure"]),
        )
        .option(
          "--trace-speed <k>",
          "replay k times faster than recorded (0.5: half as fast)",
          positiveNumber,
          1,
        )
        .option(
          "--trace-from <s>",
          "start this far into the trace's timeline (e.g. 60, 10m)",
          durationOrZeroSeconds,
        )
        .option("--trace-to <s>", "stop this far into the trace's timeline", durationSeconds)
        .option("--trace-rows <n>", "replay at most the first n rows (of the window)", positiveInt)
        .option(
          "--sessions <n>",
          "multi-turn: n conversations per level, each turn resending the history with the answers given; -c sets the users",
          positiveInt,
        )
        .option(
          "--turns <t>",
          "turns per conversation (default 3; with --dataset, every turn it has)",
          positiveInt,
        )
        .option(
          "--turn-tokens <len>",
          "tokens of each user turn: N, uniform:MIN:MAX, normal:MEAN:SD",
          lengthOption,
          parseLength("64"),
        )
        .option(
          "--think-time <ms>",
          "a user's pause before each next turn, in ms: N, uniform:MIN:MAX, normal:MEAN:SD",
          lengthOption,
        )
        .option(
          "--trace-block-tokens <n>",
          "tokens per hash_ids block (Mooncake: 512)",
          positiveInt,
          MOONCAKE_BLOCK_TOKENS,
        )
        .addOption(
          new Option("--arrivals <process>", "open-loop arrival process (default poisson)").choices([
            "constant",
            "poisson",
            "gamma",
          ]),
        )
        .option("--burstiness <b>", "gamma shape: 1 = Poisson, < 1 burstier, > 1 smoother", positiveNumber, 1)
        .option(
          "--ramp-up <s>",
          "open loop: time to ramp the rate up linearly from 0 (e.g. 30s)",
          durationOrZeroSeconds,
          0,
        )
        .option(
          "--max-concurrency <n>",
          "open loop: cap on requests in flight (the rest queue, and the wait counts)",
          positiveInt,
        )
        .addOption(
          new Option(
            "--sweep <kind>",
            "auto: synchronous and saturated throughput, then rates between",
          ).choices(["auto"]),
        )
        .option("--sweep-levels <k>", "rates spread by --sweep auto", positiveInt, 5)
        .option("--sweep-max-concurrency <c>", "concurrency that finds saturated throughput", positiveInt, 64)
        .option(
          "-n, --n <count>",
          "measured requests per level (default 32; with --duration, no limit)",
          positiveInt,
        )
        .option(
          "--server-metrics <url>",
          "the server's Prometheus metrics (default: {url origin}/metrics when it answers; none: off)",
        )
        .option(
          "--baseline <n>",
          "plain-HTTP reference requests of each kind before the load (0: none)",
          nonNegativeInt,
          3,
        )
        .option(
          "--duration <s>",
          "measure each level for this long (e.g. 60s, 2m); -n, when given too, is an upper bound",
          durationSeconds,
        )
        .option(
          "--warmup <count>",
          "warm-up requests per level, not measured (default: one per user, or 1 s of arrivals)",
          nonNegativeInt,
        )
        .option(
          "--slo <file|objective>",
          "SLO file (YAML) or an inline objective like 'ttft p(95)<300ms'; repeatable",
          collect,
          [],
        )
        .option("--find-capacity", "search the highest load that meets the SLO objectives", false)
        .addOption(
          new Option("--capacity-mode <mode>", "search request rate or concurrency (default rate)").choices([
            "rate",
            "concurrency",
          ]),
        )
        .option("--capacity-start <x>", "first load the search tries", positiveNumber, 1)
        .option("--capacity-max <x>", "highest load the search tries", positiveNumber, 1024)
        .option(
          "--capacity-tolerance <share>",
          "stop when passing and failing loads are this close",
          positiveNumber,
          0.1,
        )
        .option("--capacity-budget <s>", "time budget for the search (e.g. 10m)", durationSeconds, 600)
        .option(
          "--max-error-rate <share>",
          "stop the run when a level's failed share passes this",
          probability,
        )
        .option(
          "--max-send-lag-ms <ms>",
          "mark a level invalid when send lag p99 passes this",
          nonNegativeNumber,
          10,
        )
        .option(
          "--max-loop-lag-ms <ms>",
          "mark a level invalid when the client's event-loop lag p99 passes this",
          nonNegativeNumber,
          20,
        )
        .option("--out <dir>", "folder for run folders", "runs")
        .option("--label <name>", "label in the run folder's name", nonEmpty)
        .option("--csv <file>", "also append summary rows to this CSV file")
        .option("--json", "print only JSON on stdout", false)
        .option("-q, --quiet", "no progress on stderr", false),
    ),
  ).action(async (opts: BenchFlags) => setExit(await benchCommand(opts)));

  addTargetOptions(
    p
      .command("probe")
      .description("one request's timeline: DNS, connect, TLS, sent, headers, first token, last token, end")
      .option("--repeat <n>", "probe n times, each on a fresh connection", positiveInt, 1)
      .option("--json", "print JSON", false),
  ).action(async (opts: ProbeFlags) => setExit(await probeCommand(opts)));

  addSimOptions(
    p
      .command("sim")
      .description("run the simulator standalone: an OpenAI-compatible continuous-batching server")
      .addOption(listenOption("--listen <host:port>", "address to listen on", 8000)),
  ).action(async (opts: SimCommandFlags) => setExit(await simCommand(opts)));
  p.command("report")
    .description("write report.md (with SVG charts) and a self-contained report.html for a run folder")
    .argument("<run>", "a run folder written by bench, e.g. runs/20261123-081500-sim")
    .option("--slo <file>", "add the error-budget analysis (table and burn-down chart) for the file's slos")
    .option("--time-scale <k>", "with --slo: replay the run as if it lasted k times as long", timeScale, 1)
    .option("--json", "print the written paths as JSON", false)
    .action(async (run: string, opts: ReportFlags) => setExit(await reportCommand(run, opts)));

  p.command("compare")
    .description(
      "compare two runs level by level: change in TTFT, TPOT and E2E, and whether it beats the noise",
    )
    .argument("<a>", "the reference run folder")
    .argument("<b>", "the run to judge against it")
    .option("--alpha <p>", "significance level of the Mann-Whitney U test", probability, 0.05)
    .option("--min-change <share>", "smallest relative change of the median that counts", probability, 0.05)
    .option("--fail-on-regression", "exit 99 when any level regressed significantly", false)
    .option("--markdown <file>", "also write the comparison as a Markdown table")
    .option("--json", "print JSON", false)
    .action(async (a: string, b: string, opts: CompareFlags) => setExit(await compareCommand(a, b, opts)));

  p.command("rules")
    .description("Prometheus recording rules and multi-window burn-rate alerts for the SLO file's slos")
    .argument("<slo-file>", "an SLO file with a slos: list (see examples/slo-production.yaml)")
    .option("-o, --output <file>", "write the rules here instead of stdout")
    .option(
      "--tests <file>",
      "also write promtool unit tests (clean, fast burn, slow burn, no data) for them",
    )
    .action(async (file: string, opts: RulesFlags) => setExit(await rulesCommand(file, opts)));

  p.command("budget")
    .description("offline error-budget analysis of a run: consumed, burn rates, alerts that would have fired")
    .argument("[run]", "a run folder written by bench (or use --prometheus)")
    .requiredOption("--slo <file>", "the SLO file with a slos: list")
    .option("--prometheus <url>", "read the SLIs from this Prometheus instead of a run (range queries)")
    .option("--range <s>", "with --prometheus: how far back to look (e.g. 6h, 3d)", durationSeconds, 6 * 3600)
    .option("--step <s>", "with --prometheus: query resolution (e.g. 1m)", durationSeconds, 60)
    .option(
      "--time-scale <k>",
      "replay the run as if it lasted k times as long (alert windows are hours)",
      timeScale,
      1,
    )
    .option("--json", "print JSON", false)
    .action(async (run: string | undefined, opts: BudgetFlags) => setExit(await budgetCommand(run, opts)));

  p.command("dashboard")
    .description(
      "Grafana dashboard JSON for the SLO file: SLIs, budget remaining, burn rates per window, alerts",
    )
    .argument("<slo-file>", "an SLO file with a slos: list")
    .option("-o, --output <file>", "write the dashboard here instead of stdout")
    .option("--title <title>", "dashboard title")
    .option("--datasource <uid>", "Prometheus data source uid to select by default")
    .action(async (file: string, opts: DashboardFlags) => setExit(await dashboardCommand(file, opts)));

  p.command("proxy")
    .description(
      "reverse proxy that measures live traffic: TTFT, ITL, E2E, outcomes; Prometheus metrics, traces, logs",
    )
    .requiredOption("--upstream <url>", "the OpenAI-compatible server, e.g. http://127.0.0.1:8000")
    .addOption(listenOption("--listen <host:port>", "where clients connect", 9000))
    .addOption(listenOption("--admin-listen <host:port>", "where /metrics and /healthz are served", 9464))
    .option(
      "--service <name>",
      "the service label on every metric, span and log line (default: the --slo file's service, else streamslo)",
      nonEmpty,
    )
    .option(
      "--models <list>",
      "model label allowlist (default: the upstream's /v1/models); others are labelled other",
    )
    .option("--max-streams <n>", "streams in flight before answering 429 with Retry-After", positiveInt, 1024)
    .option(
      "--max-request-mb <n>",
      "largest request body relayed, in MiB (base64 images and audio are large); larger ones get 413",
      positiveNumber,
      8,
    )
    .option(
      "--timeout <s>",
      "time to upstream headers, and the longest silence mid-stream (e.g. 300, 5m; 0: no limit)",
      timeLimitSeconds,
      300,
    )
    .option("--slo <file>", "SLO file: goodput counters per request criterion")
    .option("--log-file <file>", "JSON request log (default: stdout)")
    .option(
      "--log-prefix-hashes",
      "log each prompt as salted block hashes (hash_ids), so a replay of the log shares prefixes as production did; never the text",
    )
    .option("--otlp-endpoint <url>", "export spans over OTLP/HTTP (default: OTEL_EXPORTER_OTLP_ENDPOINT)")
    .option(
      "--drain <s>",
      "on SIGTERM, time to let in-flight streams finish (e.g. 30, 1m; 0: none)",
      durationOrZeroSeconds,
      30,
    )
    .action(async (opts: ProxyFlags) => setExit(await proxyCommand(opts)));

  p.command("doctor")
    .description(
      "send one traced request through the proxy and check that its metrics, logs and traces line up (exit 1: a check failed)",
    )
    .requiredOption("--url <url>", "the streamslo proxy, e.g. http://127.0.0.1:9000/v1")
    .requiredOption("--metrics <url>", "the proxy's admin metrics, e.g. http://127.0.0.1:9464/metrics")
    .option("--log-file <file>", "the proxy's JSON request log (its --log-file)")
    .option("--prometheus <url>", "also check that this Prometheus has the proxy's series")
    .option("--service <name>", "the service name expected everywhere", nonEmpty, "streamslo")
    .option("--otlp-listen <host:port>", "receive the proxy's spans here (its --otlp-endpoint)", hostPort)
    .option("--model <name>", "model to request (default: the first one GET /v1/models lists)", nonEmpty)
    .addOption(
      new Option("--api-key <key>", "bearer token (or set STREAMSLO_API_KEY / OPENAI_API_KEY)").env(
        "STREAMSLO_API_KEY",
      ),
    )
    .action(async (opts: DoctorFlags) => setExit(await doctorCommand(opts)));

  p.command("schema")
    .description("print the SLO file's JSON Schema (for editors: yaml-language-server, VS Code)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(sloJsonSchema(), null, 2)}\n`);
    });
  return p;
}

/** Runs the CLI; resolves with the exit code. Never throws for a user's mistake. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await program((c) => {
      code = c;
    }).parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every parse error is a usage error
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // Error lines quote what the user typed: a URL there may carry a key.
    if (err instanceof UsageError) {
      process.stderr.write(`streamslo: ${shownText(redactUrlSecrets(err.message))}\n`);
      return EXIT.usage;
    }
    if (err instanceof EndpointError) {
      process.stderr.write(`streamslo: ${shownText(redactUrlSecrets(err.message))}\n`);
      return EXIT.endpoint;
    }
    const file = fileProblem(err);
    if (file) {
      process.stderr.write(`streamslo: ${redactUrlSecrets(file)}\n`);
      return EXIT.usage;
    }
    process.stderr.write(
      `streamslo: unexpected failure: ${redactUrlSecrets(String((err as Error).stack ?? err))}\n`,
    );
    return EXIT.failure;
  }
}
