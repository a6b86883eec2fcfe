/** An emitter lives as long as the bench that started it: it exits when its stdin closes. */
export function exitWithParent(): void {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
