import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertCleanExit, assertRunInvariants, benchRun } from "../helpers/checked-run.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { chat, modelList, type ScheduledServer, startScheduledServer } from "../helpers/scheduled-server.js";

// biome-ignore lint/suspicious/noExplicitAny: bodies and summaries are read back untyped.
type Loose = any;

describe("bench --sessions: multi-turn conversations", () => {
  let server: ScheduledServer;
  let answers = 0;
  before(async () => {
    // Every answer is unique ("answer-7 of it"), so a later turn's history shows which it carried.
    server = await startScheduledServer((req) => {
      if (req.url?.endsWith("/models")) return modelList("m");
      const a = `answer-${answers++}`;
      return {
        writes: [
          { atMs: 5, data: chat.token(a) },
          { atMs: 10, data: chat.token(" of it", "stop") },
          { atMs: 10, data: "[DONE]" },
        ],
      };
    });
  });
  after(() => server.close());

  it("sends each turn with the whole history and the server's own answers verbatim, a think time after each answer", async () => {
    const before = server.received.length;
    const run = await benchRun(
      [
        "--url",
        server.url,
        "--model",
        "m",
        "--sessions",
        "4",
        "--turns",
        "3",
        "--turn-tokens",
        "12",
        "--think-time",
        "60",
        "-c",
        "2",
        "--baseline",
        "0",
        "--server-metrics",
        "none",
        "-q",
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    assertRunInvariants(run);
    const recs = run.records as Loose[];
    assert.equal(recs.length, 12, "4 sessions of 3 turns");
    assert.deepEqual(new Set(recs.map((r) => r.session)).size, 4);
    assert.ok(
      recs.every((r) => r.text === undefined),
      "answers are not kept in the records without an SLO asking",
    );
    const bodies = server.received
      .slice(before)
      .filter((r) => r.path.includes("/chat/"))
      .map((r) => r.body as Loose);
    const byLength = (n: number) => bodies.filter((b) => b.messages.length === n);
    assert.equal(byLength(1).length, 4);
    assert.equal(byLength(3).length, 4);
    assert.equal(byLength(5).length, 4);
    for (const b of byLength(5)) {
      const m = b.messages as { role: string; content: string }[];
      assert.deepEqual(
        m.map((x) => x.role),
        ["user", "assistant", "user", "assistant", "user"],
      );
      assert.match(m[1]?.content ?? "", /^answer-\d+ of it$/);
      assert.match(m[3]?.content ?? "", /^answer-\d+ of it$/);
      // Its first turns are exactly a turn-2 request that went before.
      assert.ok(byLength(3).some((x) => JSON.stringify(x.messages) === JSON.stringify(m.slice(0, 3))));
      assert.equal(m[0]?.content.split(" ").length, 12);
    }
    // Think time: a session's next turn starts at least 60 ms after its last answer ended.
    for (const s of new Set(recs.map((r) => r.session))) {
      const turns = recs.filter((r) => r.session === s).sort((a, b) => a.turn - b.turn);
      assert.deepEqual(
        turns.map((t) => t.turn),
        [1, 2, 3],
      );
      for (let k = 1; k < turns.length; k++)
        assert.ok(
          turns[k].startMs - turns[k - 1].endMs >= 55,
          `think time ${turns[k].startMs - turns[k - 1].endMs} ms`,
        );
    }
    const sessions = (run.summary as Loose).levels[0].sessions;
    assert.equal(sessions.completed, 4);
    assert.deepEqual(
      sessions.by_turn.map((t: Loose) => [t.turn, t.ok]),
      [
        [1, 4],
        [2, 4],
        [3, 4],
      ],
    );
    assert.match(run.stdout, /^c=2: 4 sessions \(4 whole, 0 broken\).*TTFT p50 by turn: 1: /m);
  });

  it("on the simulator, later turns carry more prompt tokens (the history) and are summarised by turn", async () => {
    const run = await benchRun(
      [
        "--sim-preset",
        "fast",
        "--sessions",
        "3",
        "--turns",
        "3",
        "--turn-tokens",
        "32",
        "-c",
        "1",
        "--max-tokens",
        "8",
        "--baseline",
        "0",
        "-q",
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    const turns = (run.summary as Loose).levels[0].sessions.by_turn;
    assert.ok(turns[1].input_tokens.p50 > turns[0].input_tokens.p50 + 32);
    assert.ok(turns[2].input_tokens.p50 > turns[1].input_tokens.p50 + 32);
    // compare sets two such runs side by side by turn.
    const again = await benchRun(
      [
        "--sim-preset",
        "fast",
        "--sessions",
        "3",
        "--turns",
        "3",
        "--turn-tokens",
        "32",
        "-c",
        "1",
        "--max-tokens",
        "8",
        "--baseline",
        "0",
        "-q",
      ],
      tempDir(),
    );
    const c = await runCli(["compare", run.dir, again.dir]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /by turn \(multi-turn sessions\), p50:\n {2}c=1 turn 1: TTFT [\d.]+ -> [\d.]+ ms/);
    assert.match(c.stdout, /c=1 turn 3: TTFT/);
  });

  it("plays a conversation dataset (ShareGPT, OpenAI messages JSONL): its user turns, its replies' lengths, the server's answers", async () => {
    const dir = tempDir();
    const share = join(dir, "chats.json");
    writeFileSync(
      share,
      JSON.stringify([
        {
          conversations: [
            { from: "human", value: "Name a color." },
            { from: "gpt", value: "Blue is one of them." },
            { from: "human", value: "And another?" },
            { from: "gpt", value: "Red." },
          ],
        },
      ]),
    );
    const jsonl = join(dir, "chats.jsonl");
    writeFileSync(
      jsonl,
      `${JSON.stringify({
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "Hi there" },
          { role: "assistant", content: "Hello to you" },
          { role: "user", content: "Bye" },
        ],
      })}\n`,
    );
    for (const [file, first, second] of [
      [share, "Name a color.", "And another?"],
      [jsonl, "Hi there", "Bye"],
    ] as const) {
      const before = server.received.length;
      const run = await benchRun(
        [
          "--url",
          server.url,
          "--model",
          "m",
          "--sessions",
          "2",
          "--dataset",
          file,
          "-c",
          "1",
          "--baseline",
          "0",
          "--server-metrics",
          "none",
          "-q",
        ],
        tempDir(),
      );
      assertCleanExit(run, 0);
      assert.equal(run.records.length, 4, "2 sessions of the conversation's 2 turns");
      const bodies = server.received
        .slice(before)
        .filter((r) => r.path.includes("/chat/"))
        .map((r) => r.body as Loose);
      assert.equal(bodies[0].messages[0].content, first);
      const turn2 = bodies[1].messages as { role: string; content: string }[];
      assert.deepEqual(
        turn2.map((m) => m.role),
        ["user", "assistant", "user"],
      );
      assert.match(turn2[1]?.content ?? "", /^answer-\d+ of it$/, "the server's answer, not the dataset's");
      assert.equal(turn2[2]?.content, second);
      assert.equal(
        bodies[0].max_tokens,
        Math.ceil((file === share ? "Blue is one of them." : "Hello to you").length / 4),
      );
      assert.equal((run.summary as Loose).levels[0].sessions.completed, 2);
    }
  });

  it("-r: sessions arrive open loop, that many a second, however many are running", async () => {
    const run = await benchRun(
      [
        "--url",
        server.url,
        "--model",
        "m",
        "--sessions",
        "6",
        "--turns",
        "2",
        "--turn-tokens",
        "8",
        "-r",
        "20",
        "--baseline",
        "0",
        "--server-metrics",
        "none",
        "-q",
      ],
      tempDir(),
    );
    assertCleanExit(run, 0);
    assert.equal(run.records.length, 12);
    const level = (run.summary as Loose).levels[0];
    assert.equal(level.scenario, "rate=20");
    assert.equal(level.sessions.completed, 6);
    const firsts = (run.records as Loose[])
      .filter((r) => r.turn === 1)
      .map((r) => r.startMs)
      .sort((a, b) => a - b);
    assert.ok(
      firsts.at(-1) - firsts[0] > 50,
      "the sessions' first turns are spread over the arrivals, not sent at once",
    );
  });

  it("on the simulator, turn 2 at equal length is faster than turn 1 when the cache holds the history, and not when it cannot", async () => {
    // Turn 1: 1,500 tokens; turn 2: "ok" after a short answer, so both prompts are ~1,510 tokens long.
    const { createRng } = await import("../../src/core/rng.js");
    const { syntheticText } = await import("../../src/core/synthetic-text.js");
    const file = join(tempDir(), "long.json");
    const conv = (k: number) => ({
      conversations: [
        { from: "human", value: syntheticText(createRng(k), 1500) },
        { from: "gpt", value: "fine then" },
        { from: "human", value: "ok" },
        { from: "gpt", value: "yes" },
      ],
    });
    writeFileSync(file, JSON.stringify([0, 1, 2, 3].map(conv)));
    const byTurn = async (kv: string) => {
      const run = await benchRun(
        [
          "--sim-preset",
          "default",
          "--sim-kv-tokens",
          kv,
          "--sessions",
          "4",
          "--dataset",
          file,
          "-c",
          "1",
          "--baseline",
          "0",
          "-q",
        ],
        tempDir(),
      );
      assertCleanExit(run, 0);
      return (run.summary as Loose).levels[0].sessions.by_turn as Loose[];
    };
    const held = await byTurn("24576");
    assert.ok(Math.abs(held[1].input_tokens.p50 - held[0].input_tokens.p50) < 20, "equal lengths");
    // The default preset prefills at 0.02 ms a token: 1,500 cached tokens save ~30 ms.
    assert.ok(
      held[1].ttft_ms.p50 < held[0].ttft_ms.p50 - 15,
      `cached: ${held[1].ttft_ms.p50} vs ${held[0].ttft_ms.p50} ms`,
    );
    // A KV cache with no room beside the running sequence keeps nothing between turns.
    const evicted = await byTurn("1700");
    assert.ok(
      evicted[1].ttft_ms.p50 > evicted[0].ttft_ms.p50 - 10,
      `evicted: ${evicted[1].ttft_ms.p50} vs ${evicted[0].ttft_ms.p50} ms`,
    );
  });

  it("bad combinations exit 2", async () => {
    const r = await runCli(["bench", "--sessions", "3", "--sweep", "auto"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--sessions runs users \(-c\) or session arrivals \(-r\): drop --sweep/);
    const idle = await runCli(["bench", "--turns", "4"]);
    assert.equal(idle.code, 2);
    assert.match(idle.stderr, /--turns acts only with --sessions/);
  });
});
