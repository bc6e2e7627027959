/**
 * Time-limited TURN credentials in the coturn `use-auth-secret` REST scheme:
 * the username is `<expiry unix seconds>:<peer id>` and the password is
 * base64(HMAC-SHA1(secret, username)), so the TURN server can check them
 * without a database.
 *
 * @example
 * ```ts
 * import { turnCredentials } from "./turn.ts";
 * const server = turnCredentials({ secret: "s3cret", urls: ["turn:turn.example.com:3478"] }, "peer-1");
 * // { urls: [...], username: "1764086400:peer-1", credential: "…" }
 * ```
 *
 * @module
 */
import { createHmac } from "node:crypto";
import type { RTCIceServerInit } from "../protocol/events.ts";

/** The `turn` option of the server. */
export interface TurnOptions {
  /** The shared secret configured as `static-auth-secret` in coturn. */
  secret: string;
  /** TURN URLs handed to clients, e.g. `turn:turn.example.com:3478?transport=udp`. */
  urls: string | string[];
  /**
   * Seconds the credentials stay valid.
   * @default {86400}
   */
  ttl?: number;
}

/**
 * Issues one ICE server entry with fresh credentials.
 *
 * @param options The TURN settings.
 * @param peerId Names the user in the TURN server's logs.
 * @param now The current time in ms (for tests).
 * @returns An ICE server entry for `RTCConfiguration.iceServers`.
 */
export function turnCredentials(
  options: TurnOptions,
  peerId: string,
  now: number = Date.now(),
): RTCIceServerInit {
  const expiry = Math.floor(now / 1000) + (options.ttl ?? 86_400);
  const username = `${expiry}:${peerId}`;
  const credential = createHmac("sha1", options.secret).update(username).digest("base64");
  return { urls: options.urls, username, credential };
}
