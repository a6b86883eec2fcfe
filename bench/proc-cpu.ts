import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_S = 100; // USER_HZ: what /proc/<pid>/stat counts CPU time in, on every Linux we run on

/** [ppid, user + system ticks] from /proc/<pid>/stat; the command name may hold spaces and parentheses. */
function stat(pid: number): [number, number] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return [Number(f[1]), Number(f[11]) + Number(f[12])];
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds a process and its live child processes have used so far (nginx's work is in its
 * worker, a child of the process we started). Linux only: undefined where there is no /proc.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = stat(pid);
  if (!own) return undefined;
  let ticks = own[1];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s && s[0] === pid) ticks += s[1];
  }
  return ticks / TICKS_PER_S;
}
