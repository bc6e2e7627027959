/**
 * The plain HTTP side of the server: the browser client library, the demo
 * page, the health endpoint and the Prometheus metrics. Files are read next to this module (through
 * `fetch`, so it works from a checkout and from a URL import alike), once,
 * and kept in memory.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { ResolvedServerOptions } from "./options.ts";

const LIBRARY_FILES = [
  "socketpeer.js",
  "socketpeer.js.map",
  "socketpeer.min.js",
  "socketpeer.min.js.map",
  "socketpeer.mjs",
  "socketpeer.mjs.map",
];

interface StaticFile {
  body: Uint8Array;
  type: string;
  etag: string;
}

function contentType(name: string): string {
  if (name.endsWith(".map")) return "application/json; charset=utf-8";
  if (name.endsWith(".html")) return "text/html; charset=utf-8";
  return "text/javascript; charset=utf-8";
}

async function load(name: string, rewrite?: (text: string) => string): Promise<StaticFile> {
  const url = new URL(`../static/${name}`, import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot read ${url}: HTTP ${response.status}`);
  let body = new Uint8Array(await response.arrayBuffer());
  if (rewrite) body = new TextEncoder().encode(rewrite(new TextDecoder().decode(body)));
  const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
  return { body, type: contentType(name), etag };
}

/**
 * Whether an `If-None-Match` header names this ETag: a list, `*`, or weak
 * tags (the comparison is weak for this header, RFC 9110 section 13.1.2).
 */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** Answers HTTP requests for the library, demo, health and metrics; says whether it did. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Makes the handler for the server's own HTTP paths.
 *
 * @param options The server's options (path, serveLibrary, serveDemo).
 * @param health Produces the health document; a `status` other than `"ok"`
 * answers 503.
 * @param metrics Produces the metrics in the Prometheus text format.
 * @returns A handler that returns false for paths it does not own.
 */
export function createRequestHandler(
  options: ResolvedServerOptions,
  health: () => Promise<Record<string, unknown>>,
  metrics?: () => Promise<string>,
): RequestHandler {
  const files = new Map<string, Promise<StaticFile>>();
  const file = (route: string, name: string, rewrite?: (text: string) => string) => {
    let loaded = files.get(route);
    if (!loaded) {
      loaded = load(name, rewrite);
      loaded.catch(() => files.delete(route));
      files.set(route, loaded);
    }
    return loaded;
  };
  const routes = new Map<string, () => Promise<StaticFile>>();
  if (options.serveLibrary) {
    for (const name of LIBRARY_FILES) {
      routes.set(`${options.path}${name}`, () => file(name, name));
    }
  }
  if (options.serveDemo) {
    const demo = () =>
      file("demo", "demo/index.html", (html) => html.replaceAll("/socketpeer/", options.path));
    routes.set("/", demo);
    routes.set("/index.html", demo);
  }
  const healthPath = `${options.path}health`;
  const metricsPath = `${options.path}metrics`;

  return (req, res) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (pathname === healthPath) {
      health().then((doc) => {
        res.writeHead(doc.status === "ok" ? 200 : 503, {
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : JSON.stringify(doc));
      }, (err) => {
        res.writeHead(503, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ status: "error", error: String(err) }));
      });
      return true;
    }
    if (pathname === metricsPath && metrics) {
      metrics().then((text) => {
        res.writeHead(200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "cache-control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : text);
      }, (err) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`SocketPeer cannot produce metrics: ${err}`);
      });
      return true;
    }
    const route = routes.get(pathname);
    if (!route) return false;
    route().then((f) => {
      const headers: Record<string, string> = {
        "content-type": f.type,
        "etag": f.etag,
        // Unversioned URLs: let caches keep the file but check it each time.
        "cache-control": "public, max-age=0, must-revalidate",
        "x-content-type-options": "nosniff",
      };
      if (f.type.startsWith("text/javascript")) {
        headers["sourcemap"] = `${pathname.slice(pathname.lastIndexOf("/") + 1)}.map`;
      }
      if (notModified(req.headers["if-none-match"], f.etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      headers["content-length"] = String(f.body.byteLength);
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : f.body);
    }, (err) => {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`SocketPeer cannot serve ${pathname}: ${err.message}`);
    });
    return true;
  };
}

/**
 * Puts a handler in front of a server's existing request listeners, the way
 * socket.io attaches itself: requests it does not own go on to them, or get
 * a 404 when there are none.
 *
 * @param server The HTTP server.
 * @param handler The handler to put first.
 */
export function attachRequestHandler(
  server: HttpServer | HttpsServer,
  handler: RequestHandler,
): void {
  const previous = server.listeners("request").slice() as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (handler(req, res)) return;
    if (previous.length === 0) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("Not Found");
      return;
    }
    for (const l of previous) l.call(server, req, res);
  });
}
