import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** A helper process the bench started; `stop()` ends it and waits until it has exited. */
export interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Path of a compiled bench module next to this one (the bench runs from dist/bench). */
export function benchModule(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

const running = new Set<ChildProcess>();
// Whatever way the bench ends, it leaves no emitter, proxy or nginx behind.
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

function track(proc: ChildProcess): ChildProcess {
  running.add(proc);
  proc.once("exit", () => running.delete(proc));
  return proc;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
}

/**
 * The calibrated emitter runs at this niceness (`nice`, coreutils), below what it measures. It
 * stands in for a server on another machine, but here it shares two cores with the client (and
 * proxy) under test, and when both wanted a core the client could wait milliseconds to be
 * scheduled, with its data already in the socket. First-token delivery at 256 staggered streams,
 * four runs each way: p50 0.17-0.22 ms and p99 2.6-3.2 ms at equal priority, 0.02 ms and
 * 0.5-1.8 ms at nice 10. Emission times are taken as each chunk is written, so a late write
 * moves the emitter's schedule, never the error. The fast emitter keeps equal priority: it is
 * measured for throughput, where the cores are shared on purpose.
 */
const CALIBRATED_EMITTER_NICE = "10";

/** Runs one of the bench's emitters in its own process; resolves with the port it listens on. */
export async function startEmitter(
  module: "emitter" | "fast-emitter",
  env: Record<string, string>,
): Promise<Child & { port: number }> {
  const node = [process.execPath, benchModule(module)];
  const [command, ...args] = module === "emitter" ? ["nice", "-n", CALIBRATED_EMITTER_NICE, ...node] : node;
  // stdin stays open: the emitter exits when it closes, so it never outlives the bench.
  const proc = track(
    spawn(command as string, args, {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, ...env },
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`${module} exited (${code}) before listening`)));
    proc.once("error", (e) => reject(new Error(`${module} could not start (${command}): ${e.message}`)));
    proc.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { proc, port, stop: stopper(proc) };
}

/**
 * Runs a bench worker (a client under test) in its own process, so its event loop, heap and RSS
 * are its own; the worker gets its task as JSON in argv and prints its result as one JSON line.
 * `nodeArgs` go to node itself, e.g. `--cpu-prof` to profile the client under test.
 */
export function runWorker<T>(module: string, task: unknown, nodeArgs: string[] = []): Promise<T> {
  return runForJson<T>(process.execPath, [...nodeArgs, benchModule(module), JSON.stringify(task)], module);
}

/** Runs a command to its end; resolves with the JSON of the last line it printed (`name` labels its failure). */
export function runForJson<T>(command: string, args: string[], name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = track(spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] }));
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line) reject(new Error(`${name} failed (exit ${code})`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

/**
 * Starts a long-lived process (a proxy under test); `stderrMatch` waits for a line of its stderr,
 * e.g. the address it says it listens on. The rest of its stderr is drained and dropped.
 */
export function startService(
  command: string,
  args: string[],
): Child & { stderrMatch(re: RegExp): Promise<RegExpMatchArray> } {
  const proc = track(spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] }));
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => {
    if (err.length < 65536) err += d.toString();
  });
  const stderrMatch = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(err);
        if (!m) return;
        proc.stderr?.off("data", check);
        resolve(m);
      };
      proc.stderr?.on("data", check);
      proc.once("error", reject);
      proc.once("exit", (code) => reject(new Error(`${command} exited (${code}): ${err.trim()}`)));
      check();
    });
  return { proc, stop: stopper(proc), stderrMatch };
}

/** A port that was free a moment ago (for servers that cannot report the port they got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port (or rejects after `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1", () => {
        c.end();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const r3 = (x: number): number => Number(x.toFixed(3));
