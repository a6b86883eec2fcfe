import type { Server } from "node:net";

export interface Listening {
  /** http://127.0.0.1:port */
  origin: string;
  /** The OpenAI API base: origin + /v1. */
  url: string;
  /** Ends open connections (`drop`), then stops listening. */
  close(): Promise<void>;
}

/** Listens on a free loopback port. */
export async function listenOnLoopback(server: Server, drop: () => void): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        drop();
        server.close(() => resolve());
      }),
  };
}
