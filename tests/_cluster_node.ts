/**
 * A cluster node for the tests that need a short `nodeTimeout` (NODE_TIMEOUT,
 * in ms) and for bench/cluster.ts, which lifts the relay rate (RELAY_RATE=off)
 * to measure the relay itself; the CLI takes neither. Otherwise like
 * `server.ts` with `REDIS_URL`: it logs the same "listening on" line and
 * stops on SIGTERM.
 *
 * @module
 */
import { SocketPeerServer } from "../server.ts";

const server = new SocketPeerServer({
  port: Number(Deno.env.get("PORT") ?? 0),
  host: "127.0.0.1",
  redis: {
    url: Deno.env.get("REDIS_URL")!,
    nodeTimeout: Number(Deno.env.get("NODE_TIMEOUT") ?? 10_000),
  },
  ...(Deno.env.get("RELAY_RATE") === "off" ? { relayRate: false } : {}),
});
await server.ready;
console.log(`SocketPeer node listening on http://127.0.0.1:${server.port}/`);
Deno.addSignalListener("SIGTERM", async () => {
  await server.close();
  Deno.exit(0);
});
