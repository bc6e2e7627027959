/**
 * SocketPeer for Deno: the simplest two-way peer-to-peer data pipe that
 * always works. Two peers that know the same pair code meet on the server,
 * talk through it at once (a socket.io relay), then upgrade to a direct
 * WebRTC DataChannel; if that breaks they fall back to the relay and try
 * again later. Messages are never lost, duplicated or reordered across those
 * switches.
 *
 * Everything here resolves from a plain URL import: npm packages are named
 * with full `npm:` specifiers, and the server reads the prebuilt browser
 * client next to its own module.
 *
 * @example A server and two Deno peers
 * ```ts
 * import { SocketPeer, SocketPeerServer } from "./mod.ts";
 *
 * const server = new SocketPeerServer({ port: 3000 });
 * await server.ready;
 *
 * const a = new SocketPeer({ pairCode: "demo", url: server.url });
 * const b = new SocketPeer({ pairCode: "demo", url: server.url });
 * b.on("data", (data) => console.log("b got", data));
 * a.send("hello");
 * ```
 *
 * @module
 */
export {
  type JoinResult,
  MemoryPairRegistry,
  type PairMember,
  type PairRegistry,
  type RedisOptions,
  type RegistryStats,
  type RelayRate,
  type ServerEvents,
  type ServerStats,
  SocketPeerServer,
  type SocketPeerServerOptions,
  type TurnOptions,
} from "./server.ts";
export {
  type BinaryType,
  ErrorCode,
  type PathName,
  type PathStats,
  type PeerFoundInfo,
  PROTOCOL_VERSION,
  type Serialization,
  SocketPeer,
  SocketPeerError,
  type SocketPeerEvents,
  type SocketPeerOptions,
  type SocketPeerStats,
  type WebRtcImplementation,
} from "./client.ts";
