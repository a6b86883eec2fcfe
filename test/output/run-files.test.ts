import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createRunDir, makeDirectory } from "../../src/output/run-files.js";
import { tempDir } from "../helpers/cli.js";

describe("run folders", () => {
  it("makes every missing parent, accepts a folder that exists, and numbers a second run of the same id", () => {
    const base = join(tempDir(), "a", "b");
    const first = createRunDir(base, "20261124-100000-sim");
    const second = createRunDir(base, "20261124-100000-sim");
    assert.ok(statSync(first).isDirectory());
    assert.equal(second, `${first}-2`);
    makeDirectory(base); // exists: no error
  });

  it("refuses a path through a file, and a folder /proc cannot hold, with the system's code", () => {
    const file = join(tempDir(), "f");
    writeFileSync(file, "");
    assert.throws(() => makeDirectory(file), { code: "EEXIST" });
    assert.throws(() => makeDirectory(join(file, "x")), { code: "ENOTDIR" });
    assert.throws(() => makeDirectory("/proc/streamslo-runs/a"), { code: "ENOENT" });
  });
});
