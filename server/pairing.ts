/**
 * Pairing: a peer joins a pair code; the first waits, the second completes
 * the pair (and makes the WebRTC offer), a third is busy. When one leaves,
 * the other is told and waits under the same code for a new partner.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { type PairRequest, type PeerLeft, WireEvent } from "../protocol/events.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import type { Hub } from "./hub.ts";
import type { PeerSocket } from "./peer_socket.ts";
import type { PairMember } from "./registry.ts";
import { turnCredentials } from "./turn.ts";

/**
 * The public id of a client: the first 32 hex digits of SHA-256 of its
 * secret `peerId`.
 *
 * @example
 * ```ts
 * publicPeerId("my-secret"); // 32 hex digits, the same every time
 * ```
 */
export function publicPeerId(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 32);
}

/** The pairing handlers of one server. */
export class Pairing {
  /**
   * Slots of peers whose connection dropped, kept for them for `resumeGrace`
   * ms. (Per server process: in a cluster, a reservation holds on the node
   * that saw the drop.)
   */
  #reserved = new Map<string, { peerId: string; until: number }>();

  constructor(private readonly hub: Hub) {}

  #isReservedForAnother(pairCode: string, peerId: string): boolean {
    const now = Date.now();
    if (this.#reserved.size > 1024) {
      for (const [code, r] of this.#reserved) if (r.until <= now) this.#reserved.delete(code);
    }
    const reservation = this.#reserved.get(pairCode);
    if (!reservation) return false;
    if (reservation.until <= now || reservation.peerId === peerId) {
      this.#reserved.delete(pairCode);
      return false;
    }
    return true;
  }

  /** Runs one of a socket's pairing requests after the ones before it. */
  serialize(socket: PeerSocket, task: () => Promise<void>): Promise<void> {
    const run = (socket.data.queue ?? Promise.resolve()).then(task).catch((err) => {
      this.hub.refuse(socket, ErrorCode.INVALID_PAYLOAD, `pairing failed: ${err}`);
    });
    socket.data.queue = run;
    return run;
  }

  /** Handles a checked `pair` request. */
  async pair(socket: PeerSocket, request: PairRequest): Promise<void> {
    const { hub } = this;
    if (request.v !== PROTOCOL_VERSION) {
      hub.refuse(
        socket,
        ErrorCode.PROTOCOL_VERSION,
        `server speaks protocol v${PROTOCOL_VERSION}, client v${request.v}`,
        WireEvent.PAIR,
      );
      return;
    }
    const { pairCode } = request;
    // The client's peerId is its secret: the partner, the registry and the
    // logs see only its hash. Only the client holding the secret can resume
    // its stream, so a third peer cannot pose as a partner that reconnects.
    const peerId = publicPeerId(request.peerId);
    if (socket.data.pairCode !== undefined) {
      if (socket.data.pairCode === pairCode && socket.data.peerId === peerId) return;
      await this.leave(socket, "left");
    }
    if (!await this.#validate(pairCode)) {
      hub.refuse(
        socket,
        ErrorCode.INVALID_PAIR_CODE,
        `pair code "${pairCode}" was refused`,
        WireEvent.PAIR,
      );
      return;
    }
    if (!socket.connected) return;
    if (this.#isReservedForAnother(pairCode, peerId)) {
      hub.counters.busy++;
      socket.emit(WireEvent.BUSY, { pairCode });
      hub.events.emit("busy", { pairCode });
      return;
    }
    const me: PairMember = { socketId: socket.id, peerId, webrtc: request.webrtc !== false };
    const result = await hub.registry.join(pairCode, me);
    if (result.status === "busy") {
      hub.counters.busy++;
      socket.emit(WireEvent.BUSY, { pairCode });
      hub.events.emit("busy", { pairCode });
      return;
    }
    socket.data.pairCode = pairCode;
    socket.data.peerId = peerId;
    let partner: PairMember | null = null;
    if (result.status === "replaced") {
      // The same client came back on a new socket before its old one was
      // noticed gone: the new socket takes the slot, the old one is dropped.
      const old = hub.local(result.replaced.socketId);
      if (old) {
        old.data.pairCode = undefined;
        old.data.partner = undefined;
        old.disconnect(true);
      }
      partner = result.partner;
    } else if (result.status === "paired") {
      partner = result.partner;
    }
    if (!partner) {
      socket.emit(WireEvent.WAITING, { pairCode });
      this.#startWaitTimer(socket);
      return;
    }
    this.#introduce(pairCode, partner, me);
  }

  /** Tells two members of a code about each other; `newcomer` makes the offer. */
  #introduce(pairCode: string, waiting: PairMember, newcomer: PairMember): void {
    const { hub } = this;
    for (
      const [self, other, initiator] of [
        [waiting, newcomer, false],
        [newcomer, waiting, true],
      ] as const
    ) {
      const local = hub.local(self.socketId);
      if (local) {
        clearTimeout(local.data.waitTimer);
        local.data.partner = other.socketId;
      }
      hub.deliver(self.socketId, WireEvent.FOUND, {
        pairCode,
        initiator,
        peerId: other.peerId,
        webrtc: self.webrtc && other.webrtc,
        iceServers: this.#iceServers(self.peerId),
        maxMessageSize: hub.options.maxMessageSize,
        relayRate: hub.options.relayRate || null,
      });
    }
    hub.events.emit("pair", { pairCode });
  }

  #iceServers(peerId: string) {
    const { iceServers, turn } = this.hub.options;
    return turn ? [...iceServers, turnCredentials(turn, peerId)] : iceServers;
  }

  async #validate(pairCode: string): Promise<boolean> {
    const validator = this.hub.options.pairCodeValidator;
    if (!validator) return true;
    try {
      return (await validator(pairCode)) === true;
    } catch {
      return false;
    }
  }

  #startWaitTimer(socket: PeerSocket): void {
    const { peerTimeout } = this.hub.options;
    if (!peerTimeout) return;
    clearTimeout(socket.data.waitTimer);
    socket.data.waitTimer = setTimeout(() => {
      if (socket.data.partner !== undefined || socket.data.pairCode === undefined) return;
      this.serialize(socket, async () => {
        if (socket.data.partner !== undefined) return;
        const pairCode = socket.data.pairCode!;
        await this.hub.registry.leave(pairCode, socket.id);
        socket.data.pairCode = undefined;
        this.hub.refuse(
          socket,
          ErrorCode.PEER_TIMEOUT,
          `no partner joined "${pairCode}" within ${peerTimeout} ms`,
        );
        socket.disconnect(true);
      });
    }, peerTimeout);
  }

  /**
   * Removes a socket from its pair; the partner is told and waits again.
   *
   * @param reason Why, as the partner will be told.
   */
  async leave(socket: PeerSocket, reason: PeerLeft["reason"]): Promise<void> {
    const { pairCode, peerId } = socket.data;
    clearTimeout(socket.data.waitTimer);
    if (pairCode === undefined) return;
    if (reason === "disconnected" && peerId && this.hub.options.resumeGrace > 0) {
      this.#reserved.set(pairCode, { peerId, until: Date.now() + this.hub.options.resumeGrace });
    }
    socket.data.pairCode = undefined;
    socket.data.partner = undefined;
    const partner = await this.hub.registry.leave(pairCode, socket.id);
    if (!partner) return;
    this.#tellLeft(partner, pairCode, reason);
  }

  #tellLeft(member: PairMember, pairCode: string, reason: PeerLeft["reason"]): void {
    const local = this.hub.local(member.socketId);
    if (local) {
      local.data.partner = undefined;
      this.#startWaitTimer(local);
    }
    this.hub.deliver(member.socketId, WireEvent.LEFT, { pairCode, reason });
    this.hub.events.emit("unpair", { pairCode, reason });
  }

  /**
   * Breaks both ends of a pair: each peer is told `kicked` and disconnected.
   *
   * @returns How many peers were removed.
   */
  async kick(pairCode: string): Promise<number> {
    const members = await this.hub.registry.clear(pairCode);
    for (const member of members) {
      const local = this.hub.local(member.socketId);
      if (local) {
        local.data.pairCode = undefined;
        local.data.partner = undefined;
        clearTimeout(local.data.waitTimer);
      }
      this.hub.deliver(member.socketId, WireEvent.LEFT, { pairCode, reason: "kicked" });
      if (local) local.disconnect(true);
      else this.hub.io.in(member.socketId).disconnectSockets(true);
    }
    if (members.length > 0) this.hub.events.emit("unpair", { pairCode, reason: "kicked" });
    return members.length;
  }
}
