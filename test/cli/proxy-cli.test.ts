import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { collect, spawnCli } from "../helpers/cli.js";

const SLO = fileURLToPath(new URL("../../../examples/slo-production.yaml", import.meta.url));

/** Starts the proxy (nothing listens upstream: only its start-up is under test), stops it, returns stderr. */
async function startLine(...args: string[]): Promise<string> {
  const proxy = spawnCli([
    "proxy",
    "--upstream",
    "http://127.0.0.1:9",
    "--listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
    ...args,
  ]);
  const done = collect(proxy);
  await new Promise<void>((resolve) => {
    let seen = "";
    proxy.stderr?.on("data", (d: Buffer) => {
      seen += d.toString();
      if (seen.includes("metrics at")) resolve();
    });
  });
  proxy.kill("SIGTERM");
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

describe("streamslo proxy from the command line", () => {
  it("labels its series with the SLO file's service unless told otherwise, and warns on a mismatch", async () => {
    const fromSlo = await startLine("--slo", SLO);
    assert.match(fromSlo, /\(service chat-assistant\)/);
    assert.doesNotMatch(fromSlo, /warning/);

    const mismatch = await startLine("--slo", SLO, "--service", "chat");
    assert.match(mismatch, /\(service chat\)/);
    assert.match(mismatch, /warning: --service chat, but .*select service="chat-assistant": drop --service/);

    assert.match(await startLine(), /\(service streamslo\)/);
  });
});
