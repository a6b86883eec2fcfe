import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { accuracyAt } from "./accuracy.js";
import { pacingAt } from "./pacing.js";

/**
 * `npm run bench`: measures the client itself (not an endpoint) and writes bench/results.json.
 * Run it on an otherwise idle machine; figures from one run are comparable with each other.
 */
const out = fileURLToPath(new URL("../../bench/results.json", import.meta.url));
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memory_gib: Number((totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  date: new Date().toISOString(),
};
process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

const accuracy = [];
for (const staggered of [true, false]) {
  for (const streams of [1, 16, 256, 1024]) {
    const row = await accuracyAt(streams, staggered);
    process.stderr.write(`accuracy ${JSON.stringify(row)}\n`);
    accuracy.push(row);
  }
}
const pacing = [];
for (const rate of [10, 100, 500, 1000, 2000]) {
  const row = await pacingAt(rate, rate <= 100 ? 5 : 3);
  process.stderr.write(`pacing ${JSON.stringify(row)}\n`);
  pacing.push(row);
}
writeFileSync(out, `${JSON.stringify({ machine, accuracy, pacing }, null, 2)}\n`);
process.stderr.write(`wrote ${out}\n`);
