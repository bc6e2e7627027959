// The socket.io room relay baseline, as users write it without SocketPeer (run by Node, and by
// Deno to tell what socket.io itself costs there): a socket
// joins a room named by a code (`join`); when the room holds two sockets both get `paired`; every
// `data` event goes to the rest of the room (`socket.to(room).emit`). Same socket.io version and
// transport settings as SocketPeer's server; the message size limit is raised to SocketPeer's
// 16 MiB so that the same messages fit.
//
// Prints {"event":"listening","port":…}, then answers `mem` and `stats` lines on stdin with one
// JSON line each until stdin closes.
//
// socket.io resolves from this file (the repository's node_modules, which Deno fills), or from
// the folder named by SOCKETIO_FROM when the benchmark had to install it there.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";

const from = process.env.SOCKETIO_FROM;
const require = createRequire(from ? join(from, "index.js") : import.meta.url);
const { Server } = require("socket.io");

const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  maxHttpBufferSize: 16 * 1024 * 1024 + 1024,
  perMessageDeflate: false,
  httpCompression: false,
  pingInterval: 10_000,
  pingTimeout: 5_000,
  connectTimeout: 10_000,
});

io.on("connection", (socket) => {
  let room;
  socket.on("join", (code) => {
    if (room !== undefined || typeof code !== "string") return;
    room = code;
    socket.join(room);
    if (io.sockets.adapter.rooms.get(room)?.size === 2) io.to(room).emit("paired");
  });
  socket.on("data", (data) => {
    if (room !== undefined) socket.to(room).emit("data", data);
  });
});

const emit = (line) => process.stdout.write(JSON.stringify(line) + "\n");
httpServer.listen(0, "127.0.0.1", () => {
  emit({ event: "listening", port: httpServer.address().port });
});

const commands = {
  mem: () => {
    globalThis.gc?.();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    return { rss, heapUsed, heapTotal, external };
  },
  stats: () => ({ sockets: io.sockets.sockets.size }),
};
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const word = line.trim().split(" ")[0];
  if (!word) return;
  const handler = commands[word];
  emit({ event: word, ...(handler ? handler() : { error: `unknown ${word}` }) });
});
lines.on("close", () => {
  io.close();
  httpServer.closeAllConnections();
  process.exit(0);
});
