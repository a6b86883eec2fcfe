import cliProgress from "cli-progress";

/** Progress on stderr: a live bar on a terminal, one line per level otherwise (logs, CI). */
export class Progress {
  private bar?: cliProgress.SingleBar;
  private label = "";
  private done = 0;
  private failed = 0;

  constructor(private readonly enabled: boolean) {}

  startLevel(label: string, total: number): void {
    this.label = label;
    this.done = 0;
    this.failed = 0;
    if (!this.enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        // A level bounded by time alone has no total to fill a bar towards.
        format: Number.isFinite(total)
          ? "{label} [{bar}] {value}/{total} requests | failed {failed} | {duration_formatted}"
          : "{label} {value} requests | failed {failed} | {duration_formatted}",
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Number.isFinite(total) ? total : 0, 0, { label, failed: 0 });
  }

  tick(failed: boolean): void {
    this.done++;
    if (failed) this.failed++;
    this.bar?.increment(1, { failed: this.failed });
  }

  endLevel(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    } else if (this.enabled) {
      process.stderr.write(`${this.label}: ${this.done} requests, ${this.failed} failed\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
