import { startSimServer } from "../sim/sim-server.js";
import { STT_SIM_PATHS } from "../sim/speech/stt-sim.js";
import { TTS_SIM_PATH } from "../sim/speech/tts-sim.js";
import { UsageError } from "./exit-codes.js";
import { type SimFlags, simParamsFrom } from "./sim-options.js";

export interface SimCommandFlags extends SimFlags {
  listen: { host: string; port: number };
}

/** Runs the simulator until SIGINT/SIGTERM. */
export async function simCommand(f: SimCommandFlags): Promise<number> {
  const params = simParamsFrom(f);
  // Listened for before the start-up lines: a supervisor that reads them may signal at once.
  const stopAsked = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  let sim: Awaited<ReturnType<typeof startSimServer>>;
  try {
    sim = await startSimServer(params, f.listen.host, f.listen.port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.syscall !== "listen") throw err; // a bug, not a port: keep its stack
    throw new UsageError(
      `cannot listen on ${f.listen.host}:${f.listen.port}: ${e.code ?? e.message}; choose another --listen`,
    );
  }
  process.stdout.write(
    `streamslo simulator listening on ${sim.baseUrl} (model ${params.model}, preset ${f.simPreset}); metrics at ${sim.origin}/metrics\n`,
  );
  const ws = sim.origin.replace(/^http/, "ws");
  process.stdout.write(
    `speech: STT WebSocket at ${ws}${STT_SIM_PATHS.vosk} (Vosk), ${ws}${STT_SIM_PATHS.whisperlive} (WhisperLive), ${ws}${STT_SIM_PATHS.deepgram} (Deepgram); TTS at ${sim.origin}${TTS_SIM_PATH}\n`,
  );
  await stopAsked;
  await sim.close();
  return 0;
}
