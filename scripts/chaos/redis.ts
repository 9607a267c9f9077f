/**
 * Debian's redis-server on a loopback port, configured as the Redis test helper does (tests/helpers/redis.ts: no
 * persistence), stoppable and startable again on the same port: the Redis outage phase. Stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { EnvironmentError } from "../../lib/errors.ts";
import { freePort } from "../start/ports.ts";

const START_TIMEOUT_MS = 5000;

export interface Redis {
  port: number;
  running(): boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: "127.0.0.1", port }, () => sock.write("PING\r\n"));
    sock.setTimeout(1000, () => sock.destroy());
    sock.once("data", (d) => {
      resolve(d.toString().startsWith("+PONG"));
      sock.end();
    });
    sock.once("error", () => resolve(false));
    sock.once("close", () => resolve(false));
  });
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new EnvironmentError(`redis-server did not start on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

function halt(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port);
  return {
    port,
    running: () => child !== undefined,
    async stop() {
      const c = child;
      child = undefined;
      if (c !== undefined) await halt(c);
    },
    async start() {
      child ??= await launch(port);
    },
  };
}
