#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

// `streamslo bench | head` closes stdout early; results are already on disk, so that is no error.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
