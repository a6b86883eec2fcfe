import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { type Child, freePort, startService, waitForPort } from "./processes.js";

/** The nginx binary, or undefined when it is not installed (the bench then skips its column). */
export function findNginx(): string | undefined {
  for (const bin of ["nginx", "/usr/sbin/nginx"]) {
    const r = spawnSync(bin, ["-v"], { encoding: "utf8" });
    if (r.status === 0) return bin;
  }
  return undefined;
}

export function nginxVersion(bin: string): string {
  const r = spawnSync(bin, ["-v"], { encoding: "utf8" });
  return (r.stderr || r.stdout).trim().replace(/^nginx version:\s*/, "");
}

/**
 * nginx as an SSE reverse proxy, configured the way one is usually set up in front of vLLM:
 * proxy_buffering off (each chunk is passed on as it arrives), HTTP/1.1 with keep-alive to the
 * upstream, and an access log line per request (the streamslo proxy logs one too). One worker
 * process, as the streamslo proxy is one process: the comparison is per core.
 */
function config(dir: string, port: number, upstreamPort: number): string {
  const asUser = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : "";
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((k) => `  ${k}_temp_path ${join(dir, k)};`)
    .join("\n");
  return `${asUser}worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 8192; }
http {
  access_log ${join(dir, "access.log")};
${temp}
  keepalive_requests 1000000;
  upstream emitter {
    server 127.0.0.1:${upstreamPort};
    keepalive 1024;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://emitter;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

/** Runs nginx in the foreground with a generated config in `dir`; resolves once it accepts connections. */
export async function startNginx(
  bin: string,
  dir: string,
  upstreamPort: number,
): Promise<Child & { url: string }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, config(dir, port, upstreamPort));
  const svc = startService(bin, ["-p", dir, "-c", conf, "-e", join(dir, "error.log")]);
  const failed = svc.stderrMatch(/\[(emerg|alert)\].*/).then((m) => {
    throw new Error(`nginx: ${m[0]}`);
  });
  failed.catch(() => undefined); // it only matters while we wait below
  try {
    await Promise.race([waitForPort(port), failed]);
  } catch (err) {
    await svc.stop();
    throw err;
  }
  return { ...svc, url: `http://127.0.0.1:${port}/v1` };
}
