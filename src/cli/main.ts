import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { type BenchFlags, benchCommand } from "./bench-command.js";
import { EndpointError, EXIT, UsageError } from "./exit-codes.js";
import { hostPort, nonNegativeInt, positiveInt, positiveIntList } from "./option-parsers.js";
import { type ProbeFlags, probeCommand } from "./probe-command.js";
import { type SimCommandFlags, simCommand } from "./sim-command.js";
import { addSimOptions } from "./sim-options.js";
import { addTargetOptions } from "./target-options.js";

function program(setExit: (code: number) => void): Command {
  const p = new Command("streamslo")
    .description("Measure streaming LLM endpoints the way users feel them, and hold them to SLOs.")
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Commander's own errors are one line already; make them say where to look next.
      outputError: (str, write) =>
        write(`streamslo: ${str.replace(/^error: /, "").trimEnd()} (see --help)\n`),
    });

  addTargetOptions(
    p
      .command("bench")
      .description("load an endpoint at each concurrency and report TTFT, TPOT, ITL, E2E and throughput")
      .option("-c, --concurrency <list>", "concurrency levels, e.g. 1,4,8", positiveIntList, [1, 4, 8])
      .option("-n, --n <count>", "measured requests per level", positiveInt, 32)
      .option(
        "--warmup <count>",
        "warm-up requests per level, not measured (default: the concurrency)",
        nonNegativeInt,
      )
      .option("--out <dir>", "folder for run folders", "runs")
      .option("--label <name>", "label in the run folder's name")
      .option("--csv <file>", "also append summary rows to this CSV file")
      .option("--json", "print only JSON on stdout", false)
      .option("-q, --quiet", "no progress on stderr", false),
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
      .option("--listen <host:port>", "address to listen on", hostPort, { host: "127.0.0.1", port: 8000 }),
  ).action(async (opts: SimCommandFlags) => setExit(await simCommand(opts)));
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
    if (err instanceof UsageError) {
      process.stderr.write(`streamslo: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof EndpointError) {
      process.stderr.write(`streamslo: ${err.message}\n`);
      return EXIT.endpoint;
    }
    process.stderr.write(`streamslo: unexpected failure: ${(err as Error).stack ?? err}\n`);
    return EXIT.failure;
  }
}
