import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  assertCleanExit,
  assertRunInvariants,
  benchRun,
  type CheckedRun,
  measuredCodes,
} from "../helpers/checked-run.js";
import { tempDir } from "../helpers/cli.js";
import { type HostileServer, startHostileServer } from "../helpers/hostile-server.js";
import { type MisbehaviourName, misbehaviours } from "../helpers/misbehaviours.js";

/** Far above the CLI's own ~150 MiB; the unbounded cases reached GiBs, or crashed, before the limits. */
const MAX_RSS_MIB = 400;

const SMALL = ["-c", "2", "-n", "4", "--warmup", "0", "--baseline", "0", "--timeout", "1", "-q"];

interface FaultCase {
  args?: string[];
  /**
   * 3: the first requests all failed alike with a code retrying cannot fix, so the run stopped.
   * 4: the run went on to the end, but no measured request succeeded: not a measurement.
   */
  exit: 0 | 3 | 4;
  code: string;
}

/** How each fault is classified: every measured request gets this code (README "Outcomes"). */
const HOSTILE: Record<MisbehaviourName, FaultCase> = {
  "HTTP 500": { exit: 4, code: "http_500" },
  "connection closed before the response": { exit: 4, code: "connect_reset" },
  "connection reset mid-stream": { exit: 4, code: "stream_reset" },
  // undici takes a reset that ends a body read to the close as its end: the stream merely stops.
  "connection reset mid-stream, body read to the close": { exit: 4, code: "stream_dropped" },
  "stall longer than the timeout": { exit: 4, code: "body_timeout" },
  "slowloris headers": { exit: 4, code: "headers_timeout" },
  "headers without end": { exit: 4, code: "response_too_large" },
  "never-ending stream": { args: ["--max-request-time", "1.5"], exit: 4, code: "request_timeout" },
  "token flood without end": { args: ["--max-response-mb", "16"], exit: 4, code: "response_too_large" },
  "one 8 MiB SSE line": { exit: 0, code: "ok" },
  "one line without end": { exit: 4, code: "response_too_large" },
  "text/html 200": { exit: 3, code: "not_sse" },
  "application/json when streaming was asked": { exit: 3, code: "not_sse" },
  "invalid JSON in data lines": { exit: 3, code: "invalid_json" },
  "endless JSON body (no streaming)": {
    args: ["--no-stream", "--max-response-mb", "8"],
    exit: 4,
    code: "response_too_large",
  },
  "200 with an empty body": { exit: 4, code: "empty_response" },
  "200 then immediate close": { exit: 4, code: "stream_reset" },
};

const OUTCOME: Record<string, string> = {
  ok: "ok",
  stream_reset: "incomplete",
  stream_dropped: "incomplete",
  body_timeout: "incomplete",
  request_timeout: "incomplete",
};

function assertClassified(run: CheckedRun, code: string): void {
  const codes = measuredCodes(run);
  assert.deepEqual(Object.keys(codes), [code], `codes ${JSON.stringify(codes)}`);
  const outcome = OUTCOME[code] ?? "error";
  for (const r of run.records.filter((x) => x.phase === "measure" && x.error?.code !== "aborted")) {
    assert.equal(r.outcome, outcome, `${r.id}: ${code} is ${outcome}`);
  }
}

function assertBoundedMemory(run: CheckedRun): void {
  if (run.peakRssMiB === undefined) return; // no /proc here
  assert.ok(run.peakRssMiB < MAX_RSS_MIB, `peak RSS ${run.peakRssMiB.toFixed(0)} MiB`);
}

describe("bench against hostile servers: every request accounted for, the process stays up", {
  concurrency: 4,
}, () => {
  for (const [name, c] of Object.entries(HOSTILE) as [MisbehaviourName, FaultCase][]) {
    describe(name, () => {
      let server: HostileServer;
      before(async () => {
        server = await startHostileServer(misbehaviours[name]);
      });
      after(() => server.close());

      it(`is ${c.code}, exit ${c.exit}`, async () => {
        const run = await benchRun(
          ["--url", server.url, "--model", "m", ...SMALL, ...(c.args ?? [])],
          tempDir(),
        );
        assertCleanExit(run, c.exit);
        assertRunInvariants(run, server.received.length);
        assertClassified(run, c.code);
        assertBoundedMemory(run);
        const level = run.summary.levels[0];
        assert.ok(level, "the level is summarised");
        if (c.exit === 0) {
          assert.equal(level.n, 4, "the run went on to the end");
        } else if (c.exit === 4) {
          assert.equal(level.n, 4, "the run went on to the end");
          assert.match(
            run.stderr.trim(),
            new RegExp(
              `^streamslo: c=2: no measured request succeeded \\(4 of 4 failed, mostly ${c.code} x4\\); this level is not a measurement$`,
            ),
          );
        } else {
          assert.ok(level.n >= 3, "stopped after three alike");
          assert.match(
            run.stderr.trim(),
            new RegExp(`^streamslo: every request failed with ${c.code}: [^\\n]+$`),
          );
        }
      });
    });
  }
});

describe("bench against the simulator's injected faults", { concurrency: 3 }, () => {
  const cases: [string, string[], string][] = [
    ["HTTP 503", ["--fault-5xx", "1"], "http_503"],
    ["a stream cut mid-way", ["--fault-drop", "1"], "stream_reset"],
    [
      "a stall longer than the timeout",
      ["--fault-stall", "1", "--stall-ms", "1500", "--timeout", "0.5"],
      "body_timeout",
    ],
    [
      "a first byte later than the timeout",
      ["--fault-slow-first-byte", "1", "--slow-first-byte-ms", "1500", "--timeout", "0.5"],
      "headers_timeout",
    ],
    ["an in-band error event", ["--fault-inband-error", "1"], "stream_error"],
  ];
  const common = ["--sim-preset", "fast", "-c", "2", "-n", "4", "--warmup", "0", "--baseline", "0", "-q"];
  for (const [name, args, code] of cases) {
    it(`${name}: ${code}`, async () => {
      const run = await benchRun([...common, ...args], tempDir());
      assertCleanExit(run, 4);
      assert.match(
        run.stderr,
        new RegExp(`c=2: no measured request succeeded \\(4 of 4 failed, mostly ${code} x4\\)`),
      );
      assertRunInvariants(run);
      assertClassified(run, code);
    });
  }

  it("all of them at once, mixed with good requests", async () => {
    const faults = ["--fault-5xx", "--fault-drop", "--fault-inband-error", "--fault-stall"].flatMap((f) => [
      f,
      "0.15",
    ]);
    const run = await benchRun(
      [
        "--sim-preset",
        "fast",
        "-c",
        "4",
        "-n",
        "40",
        "--baseline",
        "1",
        "--stall-ms",
        "1000",
        "--timeout",
        "0.4",
        ...faults,
        "-q",
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    assertRunInvariants(run);
    // Some failed and some did not: a result, with the failed share said on stderr and in summary.json.
    assert.match(
      run.stderr,
      /^streamslo: warning: c=4: \d+% of measured requests failed \(\d+ of 40, mostly \w+ x\d+\)/m,
    );
    const warnings = (run.summary as unknown as { warnings: string[] }).warnings;
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0] ?? "", /^c=4: \d+% of measured requests failed/);
    const codes = measuredCodes(run);
    const allowed = new Set(["ok", "http_503", "stream_reset", "stream_error", "body_timeout"]);
    for (const k of Object.keys(codes)) assert.ok(allowed.has(k), `unexpected ${k}`);
    assert.ok(Object.keys(codes).length >= 4, `a mix: ${JSON.stringify(codes)}`);
  });
});
