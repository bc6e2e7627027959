/**
 * The SocketPeer server under test, alone in its process: a {@linkcode SocketPeerServer} on
 * 127.0.0.1 and a free port, attached to a `node:http` server that also serves the benchmark
 * page (`/bench.html`) to Chromium. Options are the defaults, except that the argument
 * `{"relayRate":false}` lifts the per-socket relay rate limit (to measure the relay's capacity
 * rather than the policy).
 *
 * Prints `{"event":"listening","port":…,"url":…}`, then answers control commands (`mem`,
 * `stats`) until stdin closes.
 *
 * @module
 */
import { createServer } from "node:http";
import { SocketPeerServer } from "../../server.ts";
import { BENCH_PAGE_HTML } from "../harness/page.ts";
import { emit, serveControl } from "./control.ts";

const httpServer = createServer((req, res) => {
  if (req.url !== "/bench.html") {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("Not Found");
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(BENCH_PAGE_HTML);
});
const config = JSON.parse(Deno.args[0] ?? "{}") as { relayRate?: false };
const peers = new SocketPeerServer({
  httpServer,
  ...(config.relayRate === false ? { relayRate: false } : {}),
});
await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
emit({ event: "listening", port: peers.port, url: peers.url });

await serveControl(
  { stats: async () => ({ ...(await peers.stats()) }) },
  async () => {
    await peers.close();
    httpServer.closeAllConnections();
  },
);
