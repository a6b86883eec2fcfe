/**
 * Ctrl-C (SIGINT) and SIGTERM during a run: the first one aborts the returned signal so in-flight
 * work stops and what was measured is written out; the process then exits with EXIT.interrupted.
 */
export function interruptSignal(what: string | (() => string)): { signal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) return;
    process.stderr.write(`\ninterrupted: ${typeof what === "string" ? what : what()}\n`);
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: interrupt.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
