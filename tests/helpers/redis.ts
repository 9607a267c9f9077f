/**
 * A real redis-server (Debian's) on a free loopback port, for tests that share state through Redis.
 * No persistence, stopped by PID in stop().
 */
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "../rig/nginx.ts";

export interface RedisServer {
  port: number;
  /** Sends one inline command and returns the raw reply (e.g. "HGETALL key"). */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

function send(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: "127.0.0.1", port }, () => sock.write(`${line}\r\n`));
    let data = "";
    sock.setTimeout(2000, () => sock.destroy(new Error("redis: no reply")));
    sock.on("data", (d) => {
      data += d.toString();
      sock.end();
    });
    sock.on("end", () => resolve(data));
    sock.on("error", reject);
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      if ((await send(port, "PING")).startsWith("+PONG")) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("redis-server did not start within 5 s");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    command: (line) => send(port, line),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
