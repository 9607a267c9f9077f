/** A free TCP port on the loopback interface (bind to 0, read the port back, release it). */
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The renderer's listener settings for a gateway on this machine only: data plane, metrics and status API each on a
 * free loopback port (the demo, local runs and tests that render real files).
 */
export async function loopbackListenEnv(): Promise<Record<string, string>> {
  return {
    SPILLWAY_LISTEN_HOST: "127.0.0.1",
    SPILLWAY_LISTEN_PORT: String(await freePort()),
    SPILLWAY_METRICS_HOST: "127.0.0.1",
    SPILLWAY_METRICS_PORT: String(await freePort()),
    SPILLWAY_STATUS_HOST: "127.0.0.1",
    SPILLWAY_STATUS_PORT: String(await freePort()),
  };
}
