import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The proxy bench's reference relay: a reverse proxy as plain as Node allows (node:http on both
 * sides, a keep-alive agent, pipe both ways) that measures nothing. Its row shows what relaying
 * through a Node.js process costs on the machine, so the streamslo proxy's row reads as that plus
 * what its recording costs, as the reference client does for the bench client.
 * Usage: node plain-relay.js UPSTREAM_ORIGIN; it says where it listens on stderr.
 */
const upstream = new URL(process.argv[2] ?? "");
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

const server = createServer((req, res) => {
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on("error", () => res.destroy());
  // A client that hangs up stops the upstream request; a finished response leaves the socket to the agent.
  res.on("close", () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stderr.write(`plain relay: http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
