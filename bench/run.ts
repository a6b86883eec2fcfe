import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { accuracyAt } from "./accuracy.js";
import { capacity } from "./capacity.js";
import { memory } from "./memory.js";
import { pacingAt } from "./pacing.js";
import { proxyOverhead } from "./proxy-overhead.js";
import { traceReplay } from "./trace-replay.js";

/**
 * `npm run bench [-- section...]`: measures the client and the proxy themselves (not an endpoint)
 * and writes bench/results.json. Sections: accuracy, pacing, capacity, proxy, trace, memory (default:
 * all, which takes a while). A run of some sections replaces only theirs in results.json; each
 * section records when it was measured. Run it on an otherwise idle machine.
 */
const SECTIONS = {
  async accuracy() {
    const rows = [];
    for (const staggered of [true, false]) {
      for (const streams of [1, 16, 256, 1024]) {
        const row = await accuracyAt(streams, staggered);
        process.stderr.write(`accuracy ${JSON.stringify(row)}\n`);
        rows.push(row);
      }
    }
    return rows;
  },
  async pacing() {
    const rows = [];
    for (const rate of [10, 100, 500, 1000, 2000]) {
      // At least 300 sends per rate: below that a p99 is only the single worst send.
      const row = await pacingAt(rate, Math.max(3, Math.ceil(300 / rate)));
      process.stderr.write(`pacing ${JSON.stringify(row)}\n`);
      rows.push(row);
    }
    return rows;
  },
  capacity: () => capacity([16, 64, 256]),
  proxy: () => proxyOverhead([64, 512], 10),
  async trace() {
    const r = await traceReplay();
    process.stderr.write(`trace ${JSON.stringify(r)}\n`);
    return r;
  },
  async memory() {
    const r = await memory();
    process.stderr.write(`memory ${JSON.stringify({ ...r, samples: undefined })}\n`);
    return r;
  },
} satisfies Record<string, () => Promise<unknown>>;
type Section = keyof typeof SECTIONS;

const asked = process.argv.slice(2);
const unknown = asked.filter((s) => !(s in SECTIONS));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown section(s): ${unknown.join(", ")}; choose from ${Object.keys(SECTIONS).join(", ")}\n`,
  );
  process.exit(2);
}
const picked = (asked.length > 0 ? asked : Object.keys(SECTIONS)) as Section[];

const out = fileURLToPath(new URL("../../bench/results.json", import.meta.url));
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memory_gib: Number((totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  date: new Date().toISOString(),
};
process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

const results: Record<string, unknown> = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
const measured = (results.measured ?? {}) as Record<string, string>;
for (const name of picked) {
  const t0 = performance.now();
  results[name] = await SECTIONS[name]();
  measured[name] = new Date().toISOString();
  process.stderr.write(`${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  // Written after every section, so a long run that stops early keeps what it measured.
  writeFileSync(out, `${JSON.stringify({ ...results, machine, measured }, null, 2)}\n`);
}
process.stderr.write(`wrote ${out}\n`);
