/**
 * The raw WebSocket relay baseline, the ceiling for any relay on Deno: `Deno.serve` and
 * `Deno.upgradeWebSocket`, nothing else. Two sockets that open `/relay?code=X` with the same X
 * are paired; both get the text message `paired`, then every message of one goes to the other
 * unchanged. It is also the signalling channel of the raw DataChannel baseline.
 *
 * Prints `{"event":"listening","port":…}`, then answers control commands until stdin closes.
 *
 * @module
 */
import { emit, serveControl } from "./control.ts";

const waiting = new Map<string, WebSocket>();
let sockets = 0;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const code = new URL(request.url).searchParams.get("code");
  if (!code || request.headers.get("upgrade") !== "websocket") {
    return new Response("Not Found", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    sockets++;
    const other = waiting.get(code);
    if (!other) {
      waiting.set(code, socket);
      socket.onclose = () => {
        sockets--;
        if (waiting.get(code) === socket) waiting.delete(code);
      };
      return;
    }
    waiting.delete(code);
    const pair = (from: WebSocket, to: WebSocket) => {
      from.onmessage = (event) => to.send(event.data);
      from.onclose = () => {
        sockets--;
        if (to.readyState === WebSocket.OPEN) to.close();
      };
    };
    pair(socket, other);
    pair(other, socket);
    socket.send("paired");
    other.send("paired");
  };
  return response;
});
emit({ event: "listening", port: server.addr.port });

await serveControl({ stats: () => ({ sockets }) }, () => server.shutdown());
