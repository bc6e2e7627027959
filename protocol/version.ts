// Browser-safe: no Deno or Node APIs.
/**
 * The version of the SocketPeer wire protocol.
 *
 * A client sends it with every `pair` request; the server refuses a client
 * whose major version differs, with the code `ERR_PROTOCOL_VERSION`.
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION } from "./version.ts";
 * console.log(`speaking SocketPeer protocol v${PROTOCOL_VERSION}`);
 * ```
 */
export const PROTOCOL_VERSION = 1;
