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
  const [listen, metrics, status] = await distinctFreePorts(3);
  return {
    SPILLWAY_LISTEN_HOST: "127.0.0.1",
    SPILLWAY_LISTEN_PORT: String(listen),
    SPILLWAY_METRICS_HOST: "127.0.0.1",
    SPILLWAY_METRICS_PORT: String(metrics),
    SPILLWAY_STATUS_HOST: "127.0.0.1",
    SPILLWAY_STATUS_PORT: String(status),
  };
}

/**
 * `count` free ports, all different: each is released before the next is asked for, so the kernel may hand the
 * same one out twice (seen in CI: status and metrics on one port, which the renderer rightly refuses).
 */
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > count * 20) throw new Error(`could not find ${count} distinct free loopback ports`);
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
