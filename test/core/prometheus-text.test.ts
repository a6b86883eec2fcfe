import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parsePrometheusText, parseSampleValue } from "../../src/core/prometheus-text.js";
import { createRng } from "../../src/core/rng.js";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../test/fixtures/metrics/${name}`, import.meta.url)), "utf8");

describe("parsePrometheusText", () => {
  it("unescapes label values and keeps commas, braces and equals signs inside quotes", () => {
    const text = String.raw`m{a="say \"hi\"",b="C:\\dir",c="two\nlines",d="1,2",e="{x=y}",f="\t",} 3`;
    const { samples, skipped } = parsePrometheusText(text);
    assert.equal(skipped, 0);
    assert.deepEqual(samples, [
      {
        name: "m",
        labels: { a: 'say "hi"', b: "C:\\dir", c: "two\nlines", d: "1,2", e: "{x=y}", f: "\\t" },
        value: 3,
      },
    ]);
  });

  it("reads NaN, ±Inf, exponents, timestamps, exemplars and names with colons", () => {
    const text = [
      'vllm:num_requests_running{model_name="m"} 2',
      "a NaN",
      'h_bucket{le="+Inf"} +Inf',
      "b -Inf 1700000000000",
      "c 1.5e-3 -12",
      "d\t\t7\t",
      'e_bucket{le="0.5"} 4 # {trace_id="a b"} 0.42 1.7e9',
      "f .5",
    ].join("\n");
    const { samples, skipped } = parsePrometheusText(text);
    assert.equal(skipped, 0);
    const value = (name: string) => samples.find((s) => s.name === name)?.value;
    assert.equal(value("vllm:num_requests_running"), 2);
    assert.ok(Number.isNaN(value("a")));
    assert.equal(value("h_bucket"), Number.POSITIVE_INFINITY);
    assert.equal(value("b"), Number.NEGATIVE_INFINITY);
    assert.equal(value("c"), 0.0015);
    assert.equal(value("d"), 7);
    assert.equal(value("e_bucket"), 4);
    assert.equal(value("f"), 0.5);
    assert.equal(samples[0]?.labels.model_name, "m");
  });

  it("skips and counts garbage lines but keeps reading", () => {
    const text = [
      "ok_1 1",
      "this is not a metric",
      'x{a="unterminated} 1',
      "x{a=unquoted} 1",
      'x{a="1",a="2"} 1',
      'x{a="1" b="2"} 1',
      "x 1 2 3",
      "x",
      "x abc",
      "x 0x1f",
      "x Infinityy",
      '{a="b"} 1',
      "9lives 1",
      "x-y 1",
      "# TYPE",
      "ok_2 2",
    ].join("\n");
    const { samples, skipped } = parsePrometheusText(text);
    assert.deepEqual(
      samples.map((s) => s.name),
      ["ok_1", "ok_2"],
    );
    assert.equal(skipped, 14);
  });

  it("takes types from TYPE lines, ignores HELP and comments, handles CRLF and stops at # EOF", () => {
    const text = [
      "# HELP foo_seconds A histogram, with a HELP line that has {braces} and \\n.",
      "# TYPE foo_seconds histogram",
      "# a free comment",
      "",
      '   foo_seconds_bucket{le="1"} 2',
      "foo_seconds_created 1.7e9",
      "# TYPE bar gauge",
      "bar 1",
      "# EOF",
      "after_eof 1",
    ].join("\r\n");
    const { samples, types, skipped } = parsePrometheusText(text);
    assert.equal(types.get("foo_seconds"), "histogram");
    assert.equal(types.get("bar"), "gauge");
    assert.deepEqual(
      samples.map((s) => s.name),
      ["foo_seconds_bucket", "foo_seconds_created", "bar"],
    );
    assert.equal(skipped, 0);
  });

  it("keeps a label named __proto__ as a plain label", () => {
    const { samples } = parsePrometheusText('m{__proto__="x"} 1');
    const labels = samples[0]?.labels ?? {};
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(labels, "__proto__")?.value, "x");
  });

  it("reads every fixture without skipping a line", () => {
    for (const name of ["vllm", "sglang", "tgi", "llamacpp"]) {
      for (const file of [`${name}.prom`, `${name}-after.prom`]) {
        const parsed = parsePrometheusText(fixture(file));
        assert.equal(parsed.skipped, 0, file);
        assert.ok(parsed.samples.length >= 7, file);
      }
    }
    const vllm = parsePrometheusText(fixture("vllm.prom"));
    assert.equal(vllm.types.get("vllm:time_to_first_token_seconds"), "histogram");
    assert.equal(vllm.types.get("vllm:prompt_tokens_total"), "counter");
    assert.equal(vllm.types.get("vllm:prompt_tokens_created"), "gauge");
  });

  it("never throws on random input", () => {
    const rng = createRng(42);
    const alphabet = 'ab_:{}="\\,# \t\n1.+-eInfNaN';
    for (let n = 0; n < 2000; n++) {
      let text = "";
      const len = Math.floor(rng() * 80);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rng() * alphabet.length)];
      const lines = text.split("\n").length;
      const parsed = parsePrometheusText(text);
      assert.ok(parsed.samples.length + parsed.skipped <= lines);
    }
  });

  it("parseSampleValue rejects what Number() would wrongly accept", () => {
    assert.equal(parseSampleValue(""), undefined);
    assert.equal(parseSampleValue("0x10"), undefined);
    assert.equal(parseSampleValue("1_000"), undefined);
    assert.equal(parseSampleValue("+Inf"), Number.POSITIVE_INFINITY);
    assert.equal(parseSampleValue("1.0"), 1);
    assert.equal(parseSampleValue("-0.25e1"), -2.5);
  });
});
