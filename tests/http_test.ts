/**
 * The HTTP side of the server and the ways to host it: the client library,
 * the demo page, health, a custom path, attaching to an app's server,
 * reusing a socket.io server, sharing a Deno.serve port, the origin
 * allow-list, option checks, TURN credentials, and `server.ts` as a CLI.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer } from "npm:socket.io@4.8.1";
import { io, type Socket } from "npm:socket.io-client@4.8.1";
import { ErrorCode, SocketPeer, SocketPeerError } from "../client.ts";
import type { PeerFound } from "../protocol/events.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { SocketPeerServer } from "../server.ts";
import { launchBrowser, waitFor } from "./_browser.ts";
import { next, paired, pairOf, peer, startServer, until } from "./_fixtures.ts";

const ROOT = new URL("../", import.meta.url);
const LIBRARY = [
  "socketpeer.js",
  "socketpeer.min.js",
  "socketpeer.mjs",
  "socketpeer.js.map",
  "socketpeer.min.js.map",
  "socketpeer.mjs.map",
];
const DEMO = new URL("static/demo/index.html", ROOT);

function staticFile(name: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(`static/${name}`, ROOT));
}

async function bytes(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

/** Fails with a clear message while the demo page has not been written yet. */
async function demoPage(): Promise<Uint8Array> {
  try {
    return await Deno.readFile(DEMO);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    assert.fail(
      "static/demo/index.html is missing: the demo route cannot be tested until it exists",
    );
  }
}

/** Two peers are paired and a message crosses in each direction. */
async function assertRelays(a: SocketPeer, b: SocketPeer): Promise<void> {
  await paired(a, b);
  const atB = next(b, "data");
  a.send("ping");
  assert.deepEqual(await atB, ["ping"]);
  const atA = next(a, "data");
  b.send("pong");
  assert.deepEqual(await atA, ["pong"]);
}

function listen(server: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeHttp(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A raw socket.io-client socket to a SocketPeer server (origin plus socket.io path). */
function rawSocket(origin: string, options: Parameters<typeof io>[1] = {}): Socket {
  return io(origin, {
    path: "/socketpeer/socket.io/",
    transports: ["websocket"],
    reconnection: false,
    ...options,
  });
}

/** Opens a WebSocket; resolves "open" or the error message it failed with. */
function tryWebSocket(url: string, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const headers = origin ? { origin } : {};
    // Deno's WebSocket takes headers in its options; browsers send Origin themselves.
    const ws = new WebSocket(url, { headers } as unknown as string[]);
    ws.onopen = () => {
      ws.onclose = () => resolve("open");
      ws.close();
    };
    ws.onerror = (event) => resolve((event as ErrorEvent).message || "error");
  });
}

Deno.test("the server serves each library file with its type, caching headers and source map", async () => {
  await using server = await startServer();
  for (const name of LIBRARY) {
    const url = `${server.url}${name}`;
    const response = await fetch(url);
    assert.equal(response.status, 200, name);
    const isMap = name.endsWith(".map");
    assert.equal(
      response.headers.get("content-type"),
      isMap ? "application/json; charset=utf-8" : "text/javascript; charset=utf-8",
      name,
    );
    assert.deepEqual(await bytes(response), await staticFile(name), name);
    const etag = response.headers.get("etag");
    assert.match(etag ?? "", /^"[^"]+"$/, `${name} has a strong ETag`);
    assert.match(response.headers.get("cache-control") ?? "", /max-age|no-cache/, name);
    assert.equal(response.headers.get("sourcemap"), isMap ? null : `${name}.map`, name);

    const revalidated = await fetch(url, { headers: { "if-none-match": etag! } });
    assert.equal(revalidated.status, 304, `${name} revalidates`);
    assert.equal(revalidated.headers.get("etag"), etag);
    assert.equal((await revalidated.arrayBuffer()).byteLength, 0);

    const stale = await fetch(url, { headers: { "if-none-match": '"not-the-etag"' } });
    assert.equal(stale.status, 200, `${name} with another ETag`);
    await stale.body?.cancel();
  }
});

Deno.test("the server answers If-None-Match lists, weak ETags and * with 304", async () => {
  await using server = await startServer();
  const url = `${server.url}socketpeer.js`;
  const first = await fetch(url);
  await first.body?.cancel();
  const etag = first.headers.get("etag")!;
  for (const condition of [`"other", ${etag}`, `W/${etag}`, "*"]) {
    const response = await fetch(url, { headers: { "if-none-match": condition } });
    assert.equal(response.status, 304, condition);
    await response.body?.cancel();
  }
});

Deno.test("HEAD on a library file gives the headers and length without a body", async () => {
  await using server = await startServer();
  const response = await fetch(`${server.url}socketpeer.min.js`, { method: "HEAD" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(
    response.headers.get("content-length"),
    String((await staticFile("socketpeer.min.js")).byteLength),
  );
  assert.ok(response.headers.get("etag"));
  assert.equal((await response.arrayBuffer()).byteLength, 0);
});

Deno.test("serveLibrary: false answers 404 for every library file", async () => {
  await using server = await startServer({ serveLibrary: false });
  for (const name of LIBRARY) {
    const response = await fetch(`${server.url}${name}`);
    assert.equal(response.status, 404, name);
    await response.body?.cancel();
  }
});

Deno.test("serveDemo: false answers 404 at /", async () => {
  await using server = await startServer({ serveDemo: false });
  for (const path of ["/", "/index.html"]) {
    const response = await fetch(new URL(path, server.url));
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
});

Deno.test("the demo page is served at / by default", async () => {
  const expected = await demoPage();
  await using server = await startServer();
  for (const path of ["/", "/index.html"]) {
    const response = await fetch(new URL(path, server.url));
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.deepEqual(await bytes(response), expected, path);
  }
});

Deno.test("with a custom path, the demo page loads the library from that path", async () => {
  const original = new TextDecoder().decode(await demoPage());
  assert.match(original, /src="\/socketpeer\/socketpeer\.js"/);
  await using server = await startServer({ path: "/p2p/" });
  const html = await (await fetch(new URL("/", server.url))).text();
  assert.match(html, /src="\/p2p\/socketpeer\.js"/);
  assert.doesNotMatch(html, /\/socketpeer\//);
});

Deno.test("a custom path serves the library and the socket.io endpoint under it", async () => {
  await using server = await startServer({ path: "/p2p/" });
  const base = `http://127.0.0.1:${server.port}`;
  assert.equal(server.url, `${base}/p2p/`);

  const library = await fetch(`${base}/p2p/socketpeer.js`);
  assert.equal(library.status, 200);
  assert.deepEqual(await bytes(library), await staticFile("socketpeer.js"));
  const old = await fetch(`${base}/socketpeer/socketpeer.js`);
  assert.equal(old.status, 404);
  await old.body?.cancel();
  const health = await fetch(`${base}/p2p/health`);
  assert.equal((await health.json()).status, "ok");

  using a = peer(`${base}/p2p/`, { pairCode: crypto.randomUUID() });
  using b = peer(`${base}/p2p/`, { pairCode: a.pairCode });
  await assertRelays(a, b);
});

Deno.test("GET <path>health answers JSON with the status and live counters", async () => {
  await using server = await startServer();
  const [a, b] = pairOf(server.url, crypto.randomUUID());
  using _a = a, _b = b;
  await assertRelays(a, b);

  const response = await fetch(`${server.url}health`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  const health = await response.json();
  assert.equal(health.status, "ok");
  assert.equal(health.protocol, PROTOCOL_VERSION);
  for (
    const field of [
      "sockets",
      "waiting",
      "paired",
      "framesRelayed",
      "bytesRelayed",
      "signalsRelayed",
      "busy",
      "refused",
    ]
  ) {
    assert.equal(typeof health[field], "number", field);
  }
  assert.equal(health.sockets, 2);
  assert.equal(health.paired, 1);
  assert.equal(health.waiting, 0);
  assert.ok(health.framesRelayed >= 2, `framesRelayed ${health.framesRelayed}`);
  assert.ok(health.bytesRelayed > 0);
});

Deno.test("attached to an app's http server, SocketPeer serves its paths and leaves the rest to the app", async () => {
  const app = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`app ${req.method} ${req.url}`);
  });
  const port = await listen(app);
  const base = `http://127.0.0.1:${port}`;
  try {
    const server = new SocketPeerServer({ httpServer: app });
    await server.ready;
    assert.equal(server.url, `${base}/socketpeer/`);

    const library = await fetch(`${base}/socketpeer/socketpeer.js`);
    assert.equal(library.status, 200);
    assert.deepEqual(await bytes(library), await staticFile("socketpeer.js"));
    assert.equal(await (await fetch(`${base}/hello?x=1`)).text(), "app GET /hello?x=1");
    // A method SocketPeer does not serve on its own path goes on to the app.
    const post = await fetch(`${base}/socketpeer/socketpeer.js`, { method: "POST", body: "x" });
    assert.equal(await post.text(), "app POST /socketpeer/socketpeer.js");

    const [a, b] = pairOf(server.url, crypto.randomUUID());
    using _a = a, _b = b;
    await assertRelays(a, b);

    await server.close();
    assert.equal(app.listening, true, "close() leaves the app's server listening");
    assert.equal(await (await fetch(`${base}/hello`)).text(), "app GET /hello");
  } finally {
    await closeHttp(app);
  }
});

Deno.test("given an existing socket.io server, SocketPeer pairs and relays through it", async () => {
  const http = createServer();
  const ioServer = new IoServer(http, { path: "/socketpeer/socket.io/" });
  const port = await listen(http);
  try {
    const server = new SocketPeerServer({ io: ioServer });
    await server.ready;
    assert.equal(server.io, ioServer);
    const url = `http://127.0.0.1:${port}/socketpeer/`;
    const [a, b] = pairOf(url, crypto.randomUUID());
    using _a = a, _b = b;
    await assertRelays(a, b);
    assert.equal((await server.stats()).paired, 1);
    await server.close();
  } finally {
    await new Promise((resolve) => ioServer.close(resolve));
  }
});

Deno.test("given an existing socket.io server, allowedOrigins refuses a foreign origin", async () => {
  const http = createServer();
  const ioServer = new IoServer(http, { path: "/socketpeer/socket.io/" });
  const port = await listen(http);
  try {
    const server = new SocketPeerServer({ io: ioServer, allowedOrigins: ["http://app.example"] });
    const handshake = `http://127.0.0.1:${port}/socketpeer/socket.io/?EIO=4&transport=polling`;
    const refused = await fetch(handshake, { headers: { origin: "http://evil.example" } });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /ERR_ORIGIN/);
    const allowed = await fetch(handshake, { headers: { origin: "http://app.example" } });
    assert.equal(allowed.status, 200);
    await allowed.body?.cancel();
    await server.close();
  } finally {
    await new Promise((resolve) => ioServer.close(resolve));
  }
});

/** A Deno.serve app on its own port that hands SocketPeer's requests to `server.fetch`. */
function shareDenoServe(server: SocketPeerServer): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => server.handles(req) ? server.fetch(req) : new Response("app"),
  );
}

Deno.test("fetch() serves the app's routes, the library and WebSocket peers on one Deno.serve port", async () => {
  await using server = await startServer();
  await using app = shareDenoServe(server);
  const base = `http://127.0.0.1:${app.addr.port}`;
  assert.notEqual(app.addr.port, server.port);

  assert.equal(await (await fetch(`${base}/hello`)).text(), "app");
  const library = await fetch(`${base}/socketpeer/socketpeer.mjs`);
  assert.equal(library.status, 200);
  assert.equal(library.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(library.headers.get("sourcemap"), "socketpeer.mjs.map");
  assert.deepEqual(await bytes(library), await staticFile("socketpeer.mjs"));
  const revalidated = await fetch(`${base}/socketpeer/socketpeer.mjs`, {
    headers: { "if-none-match": library.headers.get("etag")! },
  });
  assert.equal(revalidated.status, 304);
  await revalidated.body?.cancel();

  const [a, b] = pairOf(`${base}/socketpeer/`, crypto.randomUUID());
  using _a = a, _b = b;
  await assertRelays(a, b);
  assert.equal(a.socket.io.engine.transport.name, "websocket");
  assert.equal(b.socket.io.engine.transport.name, "websocket");
  // Many frames, each a binary WebSocket message through the bridge.
  const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
  const arrived = next(b, "data");
  a.send(big);
  assert.deepEqual(new Uint8Array((await arrived)[0] as ArrayBuffer), big);
  assert.equal((await server.stats()).paired, 1);
});

Deno.test("fetch() carries a long-polling peer through the Deno.serve port", async () => {
  await using server = await startServer();
  await using app = shareDenoServe(server);
  const base = `http://127.0.0.1:${app.addr.port}`;
  const socket = rawSocket(base, { transports: ["polling"], autoConnect: false });
  try {
    using a = peer(`${base}/socketpeer/`, { pairCode: crypto.randomUUID(), socket });
    using b = peer(`${base}/socketpeer/`, { pairCode: a.pairCode });
    await assertRelays(a, b);
    assert.equal(socket.io.engine.transport.name, "polling");
    // Enough traffic to span several polls.
    const received: unknown[] = [];
    b.on("data", (d) => received.push(d));
    for (let i = 0; i < 50; i++) a.send(i);
    await until(() => received.length === 50, "50 messages arrived over polling");
    assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => i));
  } finally {
    socket.disconnect();
  }
});

Deno.test("allowedOrigins refuses a foreign Origin on polling and WebSocket, and allows a listed or absent one", async () => {
  await using server = await startServer({ allowedOrigins: ["http://app.example"] });
  await using app = shareDenoServe(server);
  for (const base of [server.url, `http://127.0.0.1:${app.addr.port}/socketpeer/`]) {
    const handshake = `${base}socket.io/?EIO=4&transport=polling`;
    const refused = await fetch(handshake, { headers: { origin: "http://evil.example" } });
    assert.equal(refused.status, 403, `${base}: polling from a foreign origin`);
    assert.match(await refused.text(), /ERR_ORIGIN/);
    // So that a browser may read the refusal instead of seeing a CORS failure.
    assert.equal(refused.headers.get("access-control-allow-origin"), "http://evil.example");
    for (const headers of [{ origin: "http://app.example" }, {} as Record<string, string>]) {
      const allowed = await fetch(handshake, { headers });
      assert.equal(allowed.status, 200, `${base}: polling with ${JSON.stringify(headers)}`);
      assert.match(await allowed.text(), /"sid"/);
    }

    const ws = `${base.replace(/^http/, "ws")}socket.io/?EIO=4&transport=websocket`;
    assert.match(await tryWebSocket(ws, "http://evil.example"), /\b400\b/, `${base}: foreign WS`);
    assert.equal(await tryWebSocket(ws, "http://app.example"), "open", `${base}: listed WS`);
    assert.equal(await tryWebSocket(ws), "open", `${base}: WS without Origin`);
  }
});

Deno.test("allowedOrigins matches origins with or without a trailing slash, and refuses null", async () => {
  await using server = await startServer({ allowedOrigins: ["http://app.example/"] });
  const handshake = `${server.url}socket.io/?EIO=4&transport=polling`;
  for (const [origin, status] of [["http://app.example", 200], ["null", 403]] as const) {
    const response = await fetch(handshake, { headers: { origin } });
    assert.equal(response.status, status, origin);
    await response.body?.cancel();
  }
});

Deno.test("a browser page from a foreign origin gets connect_error with ERR_ORIGIN", async () => {
  await using server = await startServer({ allowedOrigins: ["http://app.example"] });
  const html = `<!doctype html>
<script src="${server.url}socketpeer.js"></script>
<script>
  const peer = new SocketPeer({ pairCode: "origin-test", url: ${
    JSON.stringify(server.url)
  }, reconnect: false });
  peer.on("connect_error", (err) => { globalThis.refusal = err.code + " " + err.message; });
  peer.on("connect", () => { globalThis.refusal = "connected"; });
</script>`;
  await using page = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  await using browser = await launchBrowser();
  const tab = await browser.newPage(`http://127.0.0.1:${page.addr.port}/`);
  const refusal = await waitFor(tab, () => (globalThis as { refusal?: string }).refusal, {
    message: "connect_error or connect",
  });
  assert.match(refusal ?? "", /^ERR_ORIGIN /);
});

Deno.test("invalid server options throw ERR_INVALID_OPTION", () => {
  const invalid = [
    { path: "socketpeer" },
    { path: "/socketpeer" },
    { maxMessageSize: -1 },
    { maxMessageSize: 0 },
    { turn: { secret: "", urls: "turn:t.example" } },
    { turn: { secret: "s", urls: 42 as unknown as string } },
    { turn: { secret: "s", urls: "turn:t.example", ttl: -5 } },
  ];
  for (const options of invalid) {
    assert.throws(
      () => new SocketPeerServer(options),
      (err) => err instanceof SocketPeerError && err.code === ErrorCode.INVALID_OPTION,
      JSON.stringify(options),
    );
  }
});

Deno.test("turn issues each paired peer HMAC-SHA1 credentials named by its peer id", async () => {
  const turn = { secret: "s3cret", urls: ["turn:turn.example:3478"], ttl: 600 };
  const stun = { urls: "stun:stun.example:3478" };
  await using server = await startServer({ turn, iceServers: [stun] });
  const origin = `http://127.0.0.1:${server.port}`;
  const sockets = [rawSocket(origin), rawSocket(origin)];
  try {
    const found = sockets.map((s) => new Promise<PeerFound>((r) => s.once("peer.found", r)));
    const pairCode = crypto.randomUUID();
    const before = Math.floor(Date.now() / 1000);
    sockets[0].emit("pair", { v: PROTOCOL_VERSION, pairCode, peerId: "peer-a" });
    await new Promise((r) => sockets[0].once("peer.waiting", r));
    sockets[1].emit("pair", { v: PROTOCOL_VERSION, pairCode, peerId: "peer-b" });
    const payloads = await Promise.all(found);
    const after = Math.floor(Date.now() / 1000);

    for (const [payload, self] of [[payloads[0], "peer-a"], [payloads[1], "peer-b"]] as const) {
      assert.equal(payload.iceServers.length, 2);
      assert.deepEqual(payload.iceServers[0], stun);
      const entry = payload.iceServers[1];
      assert.deepEqual(entry.urls, turn.urls);
      const [expiry, peerId] = entry.username!.split(":");
      // Named by the public id (a hash of the secret peerId), never by the secret.
      assert.equal(peerId, createHash("sha256").update(self).digest("hex").slice(0, 32));
      assert.ok(
        Number(expiry) >= before + turn.ttl && Number(expiry) <= after + turn.ttl,
        `expiry ${expiry} is now + ttl`,
      );
      const expected = createHmac("sha1", turn.secret).update(entry.username!).digest("base64");
      assert.equal(entry.credential, expected);
    }
  } finally {
    for (const s of sockets) s.disconnect();
  }
});

/** Runs `deno run -A server.ts` on a free loopback port and waits for its URL. */
async function startCli() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server.ts"],
    cwd: ROOT,
    env: { PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  const decoder = new TextDecoder();
  const drained = child.stdout.pipeTo(
    new WritableStream({ write: (chunk) => void (stdout += decoder.decode(chunk)) }),
  );
  const stderr = new Response(child.stderr).text();
  const output = () => stdout;
  try {
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(stdout), "the URL", 30_000);
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`server.ts did not log its URL: ${stdout} ${await stderr}`, { cause: err });
  }
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout)![1]);
  const finished = async () => {
    const status = await child.status;
    await drained;
    return { status, stdout: output(), stderr: await stderr };
  };
  return { child, port, finished };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`server.ts logs its URL, serves the library and exits 0 on ${signal}`, async () => {
    const { child, port, finished } = await startCli();
    try {
      const response = await fetch(`http://127.0.0.1:${port}/socketpeer/socketpeer.js`);
      assert.equal(response.status, 200);
      assert.deepEqual(await bytes(response), await staticFile("socketpeer.js"));
    } finally {
      child.kill(signal);
    }
    const { status, stdout, stderr } = await finished();
    assert.equal(status.code, 0, `exit status; stderr: ${stderr}`);
    assert.match(stdout, new RegExp(`client library: http://127\\.0\\.0\\.1:${port}/socketpeer/`));
    assert.match(stdout, new RegExp(`${signal}: shutting down`));
  });
}
