/**
 * Fixtures of the cluster tests: server nodes as processes of their own (to
 * SIGKILL one), their health, and a tiny round-robin TCP proxy that stands
 * for a load balancer: each new connection goes to the next node that
 * accepts it, so a client that loses its node reaches a surviving one at the
 * same URL.
 *
 * @module
 */
import { until } from "./_fixtures.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** A server node running as a child process. */
export interface Node extends AsyncDisposable {
  readonly pid: number;
  readonly port: number;
  /** Its SocketPeer URL, e.g. `http://127.0.0.1:4321/socketpeer/`. */
  readonly url: string;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal (SIGKILL by default) and waits for the exit. Idempotent. */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts a node on a free loopback port and waits until it listens.
 *
 * @param redisUrl The cluster's Redis.
 * @param options `entry`: the program (default `server.ts`, the CLI, which
 * reads `REDIS_URL`); `env`: more environment.
 */
export async function startNode(
  redisUrl: string,
  options: { entry?: string; env?: Record<string, string> } = {},
): Promise<Node> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", options.entry ?? "server.ts"],
    cwd: ROOT,
    env: { PORT: "0", HOST: "127.0.0.1", REDIS_URL: redisUrl, NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const drained = Promise.all(
    [child.stdout, child.stderr].map((stream) =>
      stream.pipeTo(new WritableStream({ write: (chunk) => void (out += decoder.decode(chunk)) }))
    ),
  ).catch(() => {});
  let status: Deno.CommandStatus | undefined;
  const exited = child.status.then(async (s) => {
    status = s;
    await drained;
    return s;
  });
  const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)\//;
  try {
    await until(() => listening.test(out) || status !== undefined, "the node listens", 60_000);
    if (!listening.test(out)) throw new Error("exited");
  } catch (cause) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`the node did not start: ${out}`, { cause });
  }
  const port = Number(listening.exec(out)![1]);
  const kill = async (signal: Deno.Signal = "SIGKILL") => {
    if (status === undefined) {
      try {
        child.kill(signal);
      } catch { /* gone already */ }
    }
    return await exited;
  };
  return {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}/socketpeer/`,
    output: () => out,
    kill,
    [Symbol.asyncDispose]: async () => void await kill(),
  };
}

/** A node's `GET <path>health`: the HTTP status and the document. */
export async function health(node: Node): Promise<{ code: number } & Record<string, unknown>> {
  const response = await fetch(`${node.url}health`);
  return { code: response.status, ...(await response.json()) };
}

/** Polls a node's health until `check` holds, or rejects after `ms` naming `what`. */
export async function healthUntil(
  node: Node,
  check: (h: Awaited<ReturnType<typeof health>>) => boolean,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const h = await health(node);
      if (check(h)) return;
      last = h;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting until ${what}; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A node's `GET <path>metrics`, as text. */
export async function metrics(node: Node): Promise<string> {
  return await (await fetch(`${node.url}metrics`)).text();
}

/** A round-robin TCP proxy on loopback. */
export interface Proxy extends Disposable {
  /** Its SocketPeer URL. */
  readonly url: string;
  /** The node port each accepted connection went to, in order. */
  readonly routes: number[];
}

/**
 * Starts a proxy in front of `backends`: connection n goes to backend
 * n mod N, or to the next one after it that accepts the connection.
 */
export function startProxy(backends: number[]): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const routes: number[] = [];
  const open = new Set<Deno.Conn>();
  let turn = 0;
  const close = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  };
  const serve = async (client: Deno.Conn) => {
    const first = turn++;
    let upstream: Deno.Conn | undefined;
    for (let i = 0; i < backends.length && !upstream; i++) {
      const port = backends[(first + i) % backends.length];
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port });
        routes.push(port);
      } catch { /* that node is down: try the next */ }
    }
    if (!upstream) return close(client);
    open.add(upstream);
    const opts = { preventClose: true };
    await Promise.race([
      client.readable.pipeTo(upstream.writable, opts),
      upstream.readable.pipeTo(client.writable, opts),
    ]).catch(() => {});
    close(client);
    close(upstream);
  };
  (async () => {
    try {
      for await (const client of listener) {
        open.add(client);
        serve(client);
      }
    } catch { /* the listener closed */ }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/socketpeer/`,
    routes,
    [Symbol.dispose]: () => {
      listener.close();
      for (const conn of [...open]) close(conn);
    },
  };
}
