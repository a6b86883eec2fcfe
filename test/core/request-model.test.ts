import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { requestModel } from "../../src/core/request-model.js";

// `npm test` runs a seeded few thousand cases per property; `npm run fuzz` sets FUZZ_RUNS much higher.
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

/** What the proxy used to read: JSON.parse's `model`, when it is a string. */
function parsedModel(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
    const model = (doc as Record<string, unknown>).model;
    return typeof model === "string" ? model : undefined;
  } catch {
    return undefined;
  }
}

const read = (text: string) => requestModel(Buffer.from(text));

describe("request model", () => {
  it("reads an OpenAI request's model, wherever the key stands", () => {
    assert.equal(read('{"model":"llama-3","stream":true,"messages":[]}'), "llama-3");
    assert.equal(read('{"messages":[{"role":"user","content":"hi"}],"model":"qwen"}'), "qwen");
    assert.equal(read(' \n{ "model" : "spaced" }\n'), "spaced");
  });

  it("takes only the top-level key, the last of repeated ones, and only a string", () => {
    const nested = '{"metadata":{"model":"inner"},"tools":[{"model":"tool"}],"model":"outer"}';
    assert.equal(read(nested), "outer");
    assert.equal(read('{"metadata":{"model":"inner"}}'), undefined);
    assert.equal(read('{"model":"first","model":"last"}'), "last");
    assert.equal(read('{"model":"first","model":7}'), undefined);
    assert.equal(read('{"model":{"name":"x"},"stream":true}'), undefined);
    assert.equal(read('{"content":"a \\"model\\": \\"fake\\" inside text","model":"real"}'), "real");
  });

  it("unescapes keys and values as JSON.parse does", () => {
    assert.equal(read('{"\\u006dodel":"escaped-key"}'), "escaped-key");
    assert.equal(read('{"model":"caf\\u00e9 \\"q\\""}'), 'café "q"');
    assert.equal(read('{"model":"ends with backslash\\\\","x":"y"}'), "ends with backslash\\");
    assert.equal(read('{"model":"名前"}'), "名前");
  });

  it("gives nothing for what is not a JSON object, and does not throw", () => {
    for (const text of [
      "",
      "[]",
      '["model"]',
      "null",
      '"model"',
      '{"model":"x"',
      '{"model"',
      '{"model":',
      "{",
    ])
      assert.equal(read(text), undefined, text);
  });

  it(`agrees with JSON.parse on generated request bodies (${RUNS} cases, seed ${SEED})`, () => {
    const text = fc.string({
      unit: fc.constantFrom("a", " ", '"', "\\", "\n", "{", "}", "[", "]", ":", ",", "é", "𝄞"),
    });
    const key = fc.oneof(
      fc.constant("model"),
      fc.constantFrom("messages", "stream", "models", "mode", "Model"),
      text,
    );
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        text,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(key, tie("value"), { maxKeys: 4 }),
      ),
    })).value;
    const body = fc.tuple(
      fc.array(fc.tuple(key, value), { maxLength: 6 }),
      fc.constantFrom(undefined, 1, "\t"),
    );
    fc.assert(
      fc.property(body, ([entries, indent]) => {
        const doc: Record<string, unknown> = {};
        for (const [k, v] of entries) doc[k] = v;
        const json = JSON.stringify(doc, null, indent);
        assert.equal(read(json), parsedModel(json), json);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`never throws on any bytes, and agrees with JSON.parse whenever they parse (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const got = requestModel(buf);
        const text = buf.toString("utf8");
        if (parsedModel(text) !== undefined) assert.equal(got, parsedModel(text));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
