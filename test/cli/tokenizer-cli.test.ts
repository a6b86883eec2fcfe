import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, benchRun } from "../helpers/checked-run.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { type LlamaCppLike, startLlamaCppLike } from "../helpers/llamacpp-server.js";

// biome-ignore lint/suspicious/noExplicitAny: summary.json read untyped.
type Loose = any;

const RUN = ["-c", "2", "-n", "6", "--baseline", "0", "--max-tokens", "2"];

function inputTokens(run: { summary: unknown }): [number, number] {
  const l = (run.summary as Loose).levels[0];
  return [l.input_tokens.min, l.input_tokens.max];
}

describe("--input-tokens N --tokenizer server: exactly N prompt tokens, chat template included", () => {
  for (const api of ["chat", "completions"]) {
    it(`against the simulator's /tokenize (vLLM's shape), ${api} API`, async () => {
      const run = await benchRun(
        ["--sim-preset", "fast", "--api", api, "--input-tokens", "77", "--tokenizer", "server", ...RUN],
        tempDir(),
      );
      assertCleanExit(run, 0);
      assert.deepEqual(inputTokens(run), [77, 77]);
      assert.equal(
        (run.summary as Loose).levels[0].input_tokens_requested,
        77,
        "requested beside server-counted",
      );
      assert.match(run.stderr, /prompts: exact lengths by the server's \/tokenize \(vLLM shape\)/);
      assert.doesNotMatch(run.stderr, /prompts were meant/);
    });
  }

  let llama: LlamaCppLike;
  before(async () => {
    llama = await startLlamaCppLike(2, 5);
  });
  after(() => llama.close());

  for (const api of ["chat", "completions"]) {
    it(`against a server with llama.cpp's /tokenize and /apply-template, ${api} API`, async () => {
      const args = [
        "--url",
        llama.url,
        "--model",
        "m",
        "--api",
        api,
        "--input-tokens",
        "90",
        "--tokenizer",
        "server",
        "--server-metrics",
        "none",
        ...RUN,
      ];
      const run = await benchRun(args, tempDir());
      assertCleanExit(run, 0);
      assert.deepEqual(inputTokens(run), [90, 90]);
      assert.match(run.stderr, /llama\.cpp shape/);
    });
  }

  for (const api of ["chat", "completions"]) {
    it(`from a tokenizer.json file read offline (with its chat template), against the simulator, ${api} API`, async () => {
      // A word-level tokenizer of the synthetic vocabulary, and a chat template of 8 tokens: the simulator's count.
      const { VOCABULARY } = await import("../../src/core/synthetic-text.js");
      const dir = tempDir();
      const words = ["[UNK]", ...VOCABULARY, "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
      const tokenizer = {
        version: "1.0",
        truncation: null,
        padding: null,
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: "Whitespace" },
        post_processor: null,
        decoder: null,
        model: {
          type: "WordLevel",
          vocab: Object.fromEntries(words.map((w, i) => [w, i])),
          unk_token: "[UNK]",
        },
      };
      writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
      writeFileSync(
        join(dir, "tokenizer_config.json"),
        JSON.stringify({
          chat_template: "{% for m in messages %}t1 t2 t3 t4 t5 t6 t7 t8 {{ m.content }}{% endfor %}",
        }),
      );
      const file = join(dir, "tokenizer.json");
      const run = await benchRun(
        ["--sim-preset", "fast", "--api", api, "--input-tokens", "61", "--tokenizer", file, ...RUN],
        tempDir(),
      );
      assertCleanExit(run, 0);
      assert.deepEqual(inputTokens(run), [61, 61]);
      assert.match(
        run.stderr,
        new RegExp(`prompts: exact lengths by the tokenizer in ${file.replace(/[/.]/g, "\\$&")}`),
      );
      const bad = await runCli([
        "bench",
        "--sim-preset",
        "fast",
        "--input-tokens",
        "8",
        "--tokenizer",
        join(dir, "none.json"),
        "--out",
        tempDir(),
      ]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--tokenizer .*none\.json: cannot read .*ENOENT/);
    });
  }

  it("without a tokenizer says the lengths are estimated; a server without /tokenize is exit 3 saying what to drop", async () => {
    const est = await benchRun(["--sim-preset", "fast", "--input-tokens", "40", ...RUN], tempDir());
    assertCleanExit(est, 0);
    assert.match(
      est.stderr,
      /prompts: lengths estimated \(a word counts as one token\); --tokenizer server makes them exact/,
    );
    const { startScheduledServer, modelList, oneTokenAnswer } = await import(
      "../helpers/scheduled-server.js"
    );
    const bare = await startScheduledServer((req) =>
      req.url?.endsWith("/models")
        ? modelList("m")
        : req.url === "/tokenize"
          ? { status: 404, writes: [] }
          : oneTokenAnswer(),
    );
    try {
      const r = await runCli([
        "bench",
        "--url",
        bare.url,
        "--model",
        "m",
        "--input-tokens",
        "40",
        "--tokenizer",
        "server",
        "--out",
        tempDir(),
      ]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /--tokenizer server: .* has no \/tokenize .*; drop --tokenizer \(prompt lengths are then estimated\)/,
      );
    } finally {
      await bare.close();
    }
    const idle = await runCli(["bench", "--tokenizer", "server"]);
    assert.equal(idle.code, 2);
    assert.match(idle.stderr, /--tokenizer acts only with --input-tokens/);
  });
});
