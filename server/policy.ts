/**
 * Who may connect: the origin allow-list, applied to the handshake of every
 * transport (HTTP long-polling and WebSocket alike) through engine.io's
 * `allowRequest`, which socket.io's `cors` option alone does not do for
 * WebSocket.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** engine.io's `allowRequest` hook. */
export type AllowRequest = (
  req: IncomingMessage,
  callback: (err: string | null | undefined, success: boolean) => void,
) => void;

/**
 * Whether a request's origin is allowed.
 *
 * @param origin The request's `Origin` header, if any.
 * @param allowed The allow-list; undefined allows every origin.
 * @returns True when the request may proceed.
 *
 * @example
 * ```ts
 * isOriginAllowed("https://evil.example", ["https://app.example"]); // false
 * isOriginAllowed(undefined, ["https://app.example"]); // true: not a browser
 * ```
 */
export function isOriginAllowed(origin: string | undefined, allowed?: string[]): boolean {
  if (!allowed || origin === undefined) return true;
  return allowed.includes(origin.replace(/\/$/, ""));
}

/**
 * Makes the `allowRequest` hook that enforces the allow-list, in front of an
 * existing hook if there was one.
 *
 * @param allowed The allow-list.
 * @param next A hook to consult after the origin passed.
 * @returns The hook.
 */
export function originPolicy(allowed: string[] | undefined, next?: AllowRequest): AllowRequest {
  return (req, callback) => {
    const origin = req.headers.origin;
    if (!isOriginAllowed(typeof origin === "string" ? origin : undefined, allowed)) {
      // Without this header a browser hides the 403 behind a CORS failure
      // (status 0), and the client cannot tell a refused origin from a
      // server that is down. Only the refusal carries it. engine.io puts the
      // polling response on the request; a WebSocket refusal has none.
      const res = (req as IncomingMessage & { res?: ServerResponse }).res;
      if (typeof origin === "string" && res && !res.headersSent) {
        res.setHeader("access-control-allow-origin", origin);
      }
      callback("ERR_ORIGIN: origin not allowed", false);
      return;
    }
    if (next) next(req, callback);
    else callback(null, true);
  };
}

/**
 * The address a request comes from: the socket's peer, or with `trustProxy`
 * the first `X-Forwarded-For` entry (which a proxy you run sets).
 *
 * @param req The request.
 * @param trustProxy Whether to believe `X-Forwarded-For`.
 * @returns The address, or "unknown".
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
    if (first) return first;
  }
  return req.socket?.remoteAddress ?? "unknown";
}

/**
 * Makes the `allowRequest` hook that refuses an address already holding
 * `max` connections (0: no cap), in front of `next`.
 *
 * @param count The open connections of an address.
 * @param max The cap.
 * @param addressOf How to read a request's address.
 * @param next The hook to consult after this one passed.
 * @returns The hook.
 */
export function connectionCap(
  count: (address: string) => number,
  max: number,
  addressOf: (req: IncomingMessage) => string,
  next?: AllowRequest,
): AllowRequest {
  return (req, callback) => {
    if (max > 0 && count(addressOf(req)) >= max) {
      callback("ERR_TOO_MANY_CONNECTIONS: too many connections from this address", false);
      return;
    }
    if (next) next(req, callback);
    else callback(null, true);
  };
}

/**
 * socket.io middleware that admits one SocketPeer socket per engine.io
 * connection. socket.io records a namespace's socket only on the next tick,
 * so a burst of namespace-connect packets in one read would otherwise make a
 * socket (and an `authorize` call) each; such a connection is closed.
 *
 * @returns The middleware, to register before any other.
 */
export function oneSocketPerConnection(): (
  socket: OneSocket,
  next: (err?: Error) => void,
) => void {
  const live = new WeakSet<object>();
  // One listener for every socket: the emitter calls it with `this` set to the
  // socket, and socket.io emits "disconnect" once, so no per-socket closure.
  function forget(this: OneSocket): void {
    live.delete(this.conn);
  }
  return (socket, next) => {
    const { conn } = socket;
    if (live.has(conn)) {
      conn.close();
      return;
    }
    live.add(conn);
    socket.on("disconnect", forget);
    next();
  };
}

/** The parts of a socket.io socket {@linkcode oneSocketPerConnection} touches. */
export interface OneSocket {
  conn: { close(): void };
  on(event: "disconnect", listener: (this: OneSocket) => void): unknown;
}
