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
  /** Sends inline commands on one connection (e.g. AUTH first) and returns the raw replies, one per command. */
  commands(lines: string[]): Promise<string[]>;
  stop(): Promise<void>;
  /** SIGKILL: gone at once, as a crashed Redis (no shutdown, listeners closed by the kernel). */
  kill(): Promise<void>;
}

/** One reply per command: each inline command is sent after the previous reply arrived. */
function sendAll(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const replies: string[] = [];
    const sock = createConnection({ host: "127.0.0.1", port }, () => sock.write(`${lines[0]}\r\n`));
    sock.setTimeout(2000, () => sock.destroy(new Error("redis: no reply")));
    sock.on("data", (d) => {
      replies.push(d.toString());
      if (replies.length < lines.length) sock.write(`${lines[replies.length]}\r\n`);
      else sock.end();
    });
    sock.on("end", () => resolve(replies));
    sock.on("error", reject);
  });
}

async function send(port: number, line: string): Promise<string> {
  return (await sendAll(port, [line])).join("");
}

/** `port`: a fixed port (to restart a killed Redis where the gateways expect it); default a free one. */
export async function startRedis(opts: { port?: number } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
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
  const stopWith = (signal: NodeJS.Signals) => (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  return {
    port,
    command: (line) => send(port, line),
    commands: (lines) => sendAll(port, lines),
    stop: stopWith("SIGTERM"),
    kill: stopWith("SIGKILL"),
  };
}
