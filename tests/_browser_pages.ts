/**
 * Pages for browser tests of the client, and the demo page as a user sees it. A page must come from the loopback server its peer
 * connects to, so {@linkcode startPageServer} serves a minimal page from a `node:http` server
 * that a {@linkcode SocketPeerServer} attaches to (`{ httpServer }`). The page loads
 * `/socketpeer/socketpeer.js` and offers `startPeer(options)`, which makes the page's peer and
 * records what it emits in a form `page.evaluate` can return.
 *
 * ```ts
 * await using server = await startPageServer();
 * await using browser = await launchBrowser();
 * const page = await browser.newPage(server.pageUrl);
 * await page.evaluate(() => (globalThis as unknown as PeerPage).startPeer({ pairCode: "x" }));
 * ```
 *
 * @module
 */
import { createServer } from "node:http";
import type { Page } from "npm:puppeteer-core@24.10.0";
import type { SocketPeer, SocketPeerOptions } from "../client.ts";
import { SocketPeerServer } from "../server.ts";
import { waitFor } from "./_browser.ts";

/**
 * A received value in a form that survives `page.evaluate` (an ArrayBuffer does not): binary
 * as its type and bytes, anything else as its `typeof` and value.
 */
export type Received = { type: string; bytes: number[] } | { type: string; value: unknown };

/**
 * Describes a received value; runs in the test and, as source, in the page.
 *
 * @param value What a peer's `data` event gave.
 * @returns Its type and content.
 */
export function describeReceived(value: unknown): Received {
  if (value instanceof ArrayBuffer) {
    return { type: "ArrayBuffer", bytes: Array.from(new Uint8Array(value)) };
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { type: value.constructor.name, bytes: Array.from(bytes) };
  }
  return { type: typeof value, value };
}

/** What the page's peer emitted so far. */
export interface PeerRecord {
  /** Names of the lifecycle events, in order. */
  events: string[];
  /** Every `data`, described. */
  received: Received[];
  /** The codes of `error` and `upgrade_error`, in order. */
  errors: string[];
}

/** The globals of the test page, as seen from `page.evaluate`. */
export interface PeerPage {
  SocketPeer: typeof SocketPeer;
  /** Made by {@linkcode PeerPage.startPeer}. */
  peer: SocketPeer;
  record: PeerRecord;
  /** Makes the page's peer (the URL defaults to the server that served the page). */
  startPeer(options: SocketPeerOptions): void;
}

// Runs in the page, from its source: it may use only the page's globals.
function startPeer(options: SocketPeerOptions): void {
  const page = globalThis as unknown as PeerPage;
  const peer = new page.SocketPeer(options);
  const record: PeerRecord = { events: [], received: [], errors: [] };
  const lifecycle = [
    "connect",
    "reconnect",
    "peer.waiting",
    "peer.found",
    "peer.left",
    "upgrade_attempt",
    "upgrade",
    "upgrade_error",
    "downgrade",
    "busy",
    "close",
  ];
  for (const event of lifecycle) peer.on(event, () => record.events.push(event));
  peer.on("data", (data) => record.received.push(describeReceived(data)));
  peer.on("error", (err) => record.errors.push(err.code));
  peer.on("upgrade_error", (err) => record.errors.push(err.code));
  page.peer = peer;
  page.record = record;
}

const PEER_PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>SocketPeer test page</title>
<script src="/socketpeer/socketpeer.js"></script>
<script>
${describeReceived}
globalThis.startPeer = ${startPeer};
</script>
`;

/** A SocketPeer server that also serves the test page; see {@linkcode startPageServer}. */
export interface PageServer extends AsyncDisposable {
  /** The SocketPeer server, attached to the HTTP server. */
  readonly peers: SocketPeerServer;
  /** The test page's URL. */
  readonly pageUrl: string;
  /** Closes the SocketPeer server, then the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a `node:http` server on 127.0.0.1 and a free port that serves the test page at
 * `/peer.html`, with a SocketPeer server (default options) attached to it.
 *
 * @returns The running servers; close them (or declare them with `await using`).
 */
export async function startPageServer(): Promise<PageServer> {
  const httpServer = createServer((req, res) => {
    if (req.url !== "/peer.html") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("Not Found");
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PEER_PAGE_HTML);
  });
  const peers = new SocketPeerServer({ httpServer });
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await peers.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    })();
  return {
    peers,
    pageUrl: `http://127.0.0.1:${peers.port}/peer.html`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The demo page's visible state, as a user sees it. */
export function demoState(page: Page) {
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)!.textContent!.trim();
    return {
      code: (document.getElementById("code") as HTMLInputElement).value,
      status: document.getElementById("status")!.dataset.state,
      statusText: text("status"),
      path: text("path"),
      share: (document.getElementById("share") as HTMLAnchorElement).href,
      incoming: [...document.querySelectorAll("#log .incoming .text")].map((e) => e.textContent),
      outgoing: [...document.querySelectorAll("#log .outgoing .text")].map((e) => e.textContent),
      errors: [...document.querySelectorAll("#log .error")].map((e) => e.textContent),
    };
  });
}

/** Waits until the demo page shows a status (`paired`, …) and a path (`P2P`, `Relay`, …). */
export function waitForDemo(page: Page, status: string, path: string): Promise<unknown> {
  return waitFor(
    page,
    (status, path) =>
      document.getElementById("status")!.dataset.state === status &&
      document.getElementById("path")!.textContent!.trim() === path,
    { args: [status, path], timeout: 20_000, message: `demo ${status} on ${path}` },
  );
}

/** Types and sends a chat message, as a user would in that tab. */
export async function typeMessage(page: Page, text: string): Promise<void> {
  // Puppeteer's clicks wait for a rendered frame, which only the front tab gets.
  await page.bringToFront();
  await page.type("#message", text);
  await page.click("#send");
}
