/**
 * The `authorize` hook as socket.io middleware: it runs once per connection,
 * before any event, and a refusal reaches the client as a `connect_error`
 * whose `data.code` is `ERR_UNAUTHORIZED`.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import { ErrorCode } from "../protocol/errors.ts";
import type { HandshakeInfo } from "./options.ts";
import type { PeerSocket } from "./peer_socket.ts";

/** An error socket.io hands to the client, `data` included. */
type RefusalError = Error & { data?: { code: string } };

/**
 * Makes the middleware.
 *
 * @param authorize The user's hook.
 * @param addressOf How to read a request's client address.
 * @returns socket.io middleware.
 *
 * @example
 * ```ts
 * io.use(authorization(({ auth }) => auth.token === "let-me-in", (req) => req.socket.remoteAddress!));
 * ```
 */
export function authorization(
  authorize: (handshake: HandshakeInfo) => boolean | Promise<boolean>,
  addressOf: (req: IncomingMessage) => string,
): (socket: PeerSocket, next: (err?: Error) => void) => void {
  return (socket, next) => {
    const { headers, query, auth } = socket.handshake;
    const handshake: HandshakeInfo = {
      headers,
      query: { ...query },
      auth: { ...(auth ?? {}) },
      address: addressOf(socket.request),
    };
    const refuse = (why: string) => {
      const err: RefusalError = new Error(`${ErrorCode.UNAUTHORIZED}: ${why}`);
      err.data = { code: ErrorCode.UNAUTHORIZED };
      next(err);
    };
    Promise.resolve()
      .then(() => authorize(handshake))
      .then(
        (ok) => ok === true ? next() : refuse("the server refused this connection"),
        () => refuse("the server could not authorize this connection"),
      );
  };
}
