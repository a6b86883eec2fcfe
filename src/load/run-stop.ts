import { setMaxListeners } from "node:events";

/**
 * A run's one stop switch and the first reason it was thrown: the user's interrupt, a fatal
 * endpoint error, an objective with abortOnFail, too many errors. `R` is the runner's reason type.
 */
export class RunStop<R extends { kind: string }> {
  private readonly ctrl = new AbortController();
  reason?: R;

  constructor(interrupt: AbortSignal | undefined, interrupted: R) {
    setMaxListeners(0, this.ctrl.signal); // one listener per in-flight request
    interrupt?.addEventListener("abort", () => this.stop(interrupted), { once: true });
    if (interrupt?.aborted) this.stop(interrupted);
  }

  get signal(): AbortSignal {
    return this.ctrl.signal;
  }

  get stopped(): boolean {
    return this.ctrl.signal.aborted;
  }

  stop(reason: R): void {
    this.reason ??= reason;
    this.ctrl.abort();
  }
}

/** What every level runner shares: the stop switch, why it was thrown, and whether it was. */
export abstract class StoppableRunner<R extends { kind: string }> {
  protected readonly halt: RunStop<R>;

  constructor(interrupt: AbortSignal | undefined, interrupted: R) {
    this.halt = new RunStop<R>(interrupt, interrupted);
  }

  get stopReason(): R | undefined {
    return this.halt.reason;
  }

  get stopped(): boolean {
    return this.halt.stopped;
  }
}
