/**
 * A real `redis-server` for the cluster tests: Debian's binary (`$REDIS_SERVER`,
 * else `redis-server` on PATH, as scripts/provision.sh provides), on a free
 * loopback port, without persistence, stopped and started again on demand.
 *
 * @module
 */
import { sleep } from "./_fixtures.ts";

/** A redis-server child process. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Kills the server (SIGKILL: it keeps nothing, having no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Sends one command and returns the raw reply (RESP), e.g. `command("FLUSHALL")`. */
  command(...args: string[]): Promise<string>;
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function send(port: number, args: string[]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const encoder = new TextEncoder();
    const body = args.map((a) => `$${encoder.encode(a).byteLength}\r\n${a}\r\n`).join("");
    await conn.write(encoder.encode(`*${args.length}\r\n${body}`));
    const buffer = new Uint8Array(64 * 1024);
    const n = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await send(port, ["PING"])).startsWith("+PONG");
  } catch {
    return false;
  }
}

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const binary = Deno.env.get("REDIS_SERVER") || "redis-server";
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = new Deno.Command(binary, {
        args: ["--save", "", "--appendonly", "no", "--port", String(port), "--bind", "127.0.0.1"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      let exited = false;
      started.status.then(() => (exited = true));
      while (!exited && !await answers(port)) {
        if (Date.now() > deadline) {
          started.kill("SIGKILL");
          throw new Error(`redis-server did not answer on port ${port}`);
        }
        await sleep(50);
      }
      if (!exited) {
        child = started;
        return;
      }
      // The port a killed server held may take a moment to be free again.
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await sleep(200);
    }
  };
  const stop = async () => {
    const stopping = child;
    child = undefined;
    if (!stopping) return;
    try {
      stopping.kill("SIGKILL");
    } catch { /* gone already */ }
    await stopping.status;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    command: (...args) => send(port, args),
    [Symbol.asyncDispose]: stop,
  };
}
