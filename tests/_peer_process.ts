/**
 * A SocketPeer in a process of its own, for tests that stop or kill a peer
 * (SIGSTOP, SIGKILL) the way a frozen laptop or a crash would. It echoes
 * every message back and reports on stdout:
 * `found <partner id>`, `upgraded`, `left <reason>`, `data <json>`.
 *
 * Usage: `deno run -A tests/_peer_process.ts <url> <pairCode> [webrtc]`
 *
 * @module
 */
import { SocketPeer } from "../client.ts";
import { FAST, nodeWrtc } from "./_fixtures.ts";

if (import.meta.main) {
  const [url, pairCode, mode] = Deno.args;
  const peer = new SocketPeer({
    url,
    pairCode,
    ...FAST,
    ...(mode === "webrtc" ? { wrtc: nodeWrtc } : {}),
  });
  peer.on("peer.found", (info) => console.log(`found ${info.peerId}`));
  peer.on("upgrade", () => console.log("upgraded"));
  peer.on("peer.left", (reason) => console.log(`left ${reason}`));
  peer.on("data", (data) => {
    console.log(`data ${JSON.stringify(data)}`);
    peer.send(data);
  });
  console.log(`peer ${peer.peerId}`);
}
