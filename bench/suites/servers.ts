/**
 * Starts the servers under test, each alone in its process, on 127.0.0.1 and a free port.
 *
 * @module
 */
import { Child } from "../proc.ts";

/** The servers a run uses. */
export type ServerKind = "socketpeer" | "socketpeer-default" | "socketio" | "socketio-deno" | "ws";

/** A running server. */
export interface RunningServer {
  kind: ServerKind;
  child: Child;
  port: number;
  /** What clients connect to: the SocketPeer URL, `http://…` (socket.io), `ws://…` (raw). */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts one server.
 *
 * @param kind Which.
 * @param nodeEnv Environment of the Node baseline (see `prepareNodeBaseline`).
 * @returns The server, listening.
 */
export async function startServer(
  kind: ServerKind,
  nodeEnv: Record<string, string> = {},
): Promise<RunningServer> {
  const name = `${kind} server`;
  const child = kind === "socketio"
    ? Child.spawn("node", ["--expose-gc", "bench/servers/socketio_relay.mjs"], {
      name,
      env: nodeEnv,
    })
    : kind === "socketio-deno"
    ? Child.deno("bench/servers/socketio_relay.mjs", {}, { name, v8Flags: ["--expose-gc"] })
    : kind === "ws"
    ? Child.deno("bench/servers/ws_relay.ts", {}, { name, v8Flags: ["--expose-gc"] })
    : Child.deno(
      "bench/servers/socketpeer.ts",
      kind === "socketpeer" ? { relayRate: false } : {},
      { name, v8Flags: ["--expose-gc"] },
    );
  const listening = await child.next("listening", 120_000);
  const port = listening.port as number;
  const url = kind === "socketio" || kind === "socketio-deno"
    ? `http://127.0.0.1:${port}`
    : kind === "ws"
    ? `ws://127.0.0.1:${port}`
    : listening.url as string;
  return { kind, child, port, url, close: () => child.close() };
}
