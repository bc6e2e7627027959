/**
 * Pairing: a peer joins a pair code; the first waits, the second completes
 * the pair (and makes the WebRTC offer), a third is busy. When one leaves,
 * the other is told and waits under the same code for a new partner.
 *
 * Every change to a socket's pairing state is a {@linkcode PeerUpdate},
 * applied by the node that holds the socket: here when it is local, else on
 * the node it is connected to (in a cluster).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { type PairRequest, type PeerLeft, WireEvent } from "../protocol/events.ts";
import { BASE_FRAME_SIZE, MAX_FRAME_SIZE } from "../protocol/frame.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import type { Hub } from "./hub.ts";
import type { PeerUpdate } from "./node_link.ts";
import type { PeerSocket } from "./peer_socket.ts";
import type { JoinResult, PairMember } from "./registry.ts";
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
  // Hex of the first 16 bytes rather than a slice of the hex of 32: a slice
  // would keep the whole 64-digit string alive for as long as the socket.
  return createHash("sha256").update(secret).digest().subarray(0, 16).toString("hex");
}

/** What a socket's queue holds once its last task ran. */
const SETTLED: Promise<void> = Promise.resolve();

/** The pairing handlers of one server. */
export class Pairing {
  /**
   * Slots of peers whose connection dropped, kept for them for `resumeGrace`
   * ms: pair code → public peer id → expiry. (Per server process: in a
   * cluster, a reservation holds on the node that saw the drop.)
   */
  #reserved = new Map<string, Map<string, number>>();
  /** What each local socket joined as, to join again after the store forgot it. */
  #joined = new WeakMap<PeerSocket, PairMember>();
  /** The last queued task of each socket that has one running. */
  #busy = new Set<Promise<void>>();

  constructor(private readonly hub: Hub) {}

  /**
   * How long slots reserved for peers other than `peerId` still hold (0: no
   * such slot). The peer's own reservation, if any, is used up.
   */
  #reservedForOthers(pairCode: string, peerId: string): { count: number; until: number } {
    const now = Date.now();
    if (this.#reserved.size > 1024) {
      for (const [code, slots] of this.#reserved) {
        for (const [id, until] of slots) if (until <= now) slots.delete(id);
        if (slots.size === 0) this.#reserved.delete(code);
      }
    }
    const slots = this.#reserved.get(pairCode);
    if (!slots) return { count: 0, until: 0 };
    slots.delete(peerId);
    let count = 0;
    let until = 0;
    for (const [id, expiry] of slots) {
      if (expiry <= now) {
        slots.delete(id);
      } else {
        count++;
        until = Math.max(until, expiry);
      }
    }
    if (slots.size === 0) this.#reserved.delete(pairCode);
    return { count, until };
  }

  #reserve(pairCode: string, peerId: string): void {
    const slots = this.#reserved.get(pairCode) ?? new Map<string, number>();
    slots.set(peerId, Date.now() + this.hub.options.resumeGrace);
    this.#reserved.set(pairCode, slots);
  }

  /** Runs one of a socket's pairing requests after the ones before it. */
  serialize(socket: PeerSocket, task: () => Promise<void>): Promise<void> {
    const run = (socket.data.queue ?? this.hub.ready).then(task).catch((err) => {
      this.hub.refuse(socket, ErrorCode.INVALID_PAYLOAD, `pairing failed: ${err}`);
    });
    socket.data.queue = run;
    this.#busy.add(run);
    run.then(() => {
      this.#busy.delete(run);
      // Once it ran, a task is followed as well by any settled promise: one shared by every
      // socket, rather than each idle socket keeping its own.
      if (socket.data.queue === run) socket.data.queue = SETTLED;
    });
    return run;
  }

  /** Resolves once every queued pairing task has run (before the registry closes). */
  async idle(): Promise<void> {
    while (this.#busy.size > 0) await Promise.all(this.#busy);
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
    const reserved = this.#reservedForOthers(pairCode, peerId);
    if (reserved.count > 0) {
      // Slots kept for peers that dropped count as taken until they expire.
      const present = (await hub.registry.members(pairCode)).filter((m) => m.peerId !== peerId);
      if (present.length + reserved.count >= 2) {
        this.#tellBusy(socket, pairCode, reserved.until - Date.now());
        return;
      }
    }
    const me: PairMember = {
      socketId: socket.id,
      peerId,
      webrtc: request.webrtc !== false,
      batch: request.batch === true,
      maxFrameSize: Math.min(request.maxFrameSize ?? BASE_FRAME_SIZE, MAX_FRAME_SIZE),
    };
    // Set before the registry answers: a partner on another node may be
    // introduced to this socket before the answer arrives here.
    socket.data.pairCode = pairCode;
    socket.data.peerId = peerId;
    let result: JoinResult;
    try {
      result = await hub.registry.join(pairCode, me);
    } catch (err) {
      socket.data.pairCode = undefined;
      throw err;
    }
    if (result.status === "busy") {
      socket.data.pairCode = undefined;
      this.#tellBusy(socket, pairCode);
      return;
    }
    this.#joined.set(socket, me);
    this.#settle(socket, pairCode, me, result);
  }

  #tellBusy(socket: PeerSocket, pairCode: string, retryAfter?: number): void {
    this.hub.counters.busy++;
    socket.emit(
      WireEvent.BUSY,
      retryAfter === undefined ? { pairCode } : { pairCode, retryAfter: Math.max(1, retryAfter) },
    );
    this.hub.events.emit("busy", { pairCode });
  }

  /** Acts on what the registry answered to a socket's join. */
  #settle(
    socket: PeerSocket,
    pairCode: string,
    me: PairMember,
    result: Exclude<JoinResult, { status: "busy" }>,
  ): void {
    let partner: PairMember | null = null;
    if (result.status === "replaced") {
      // The same client came back on a new socket before its old one was
      // noticed gone: the new socket takes the slot, the old one is dropped.
      if (result.replaced.socketId !== socket.id) {
        this.#route({ type: "replaced", socketId: result.replaced.socketId });
      }
      partner = result.partner;
    } else if (result.status === "paired") {
      partner = result.partner;
    }
    if (partner) {
      this.#introduce(pairCode, partner, me);
    } else if (socket.data.partner === undefined) {
      socket.emit(WireEvent.WAITING, { pairCode });
      this.#startWaitTimer(socket);
    }
  }

  /**
   * Tells two members of a code about each other; `newcomer` makes the offer.
   * `again`: they were paired before, and are introduced again so that both
   * resend what was not acknowledged.
   */
  #introduce(pairCode: string, waiting: PairMember, newcomer: PairMember, again = false): void {
    const { hub } = this;
    for (
      const [self, other, initiator] of [
        [waiting, newcomer, false],
        [newcomer, waiting, true],
      ] as const
    ) {
      this.#route({
        type: "found",
        socketId: self.socketId,
        partner: other.socketId,
        found: {
          pairCode,
          initiator,
          peerId: other.peerId,
          webrtc: self.webrtc && other.webrtc,
          batch: self.batch === true && other.batch === true,
          maxFrameSize: Math.min(
            self.maxFrameSize ?? BASE_FRAME_SIZE,
            other.maxFrameSize ?? BASE_FRAME_SIZE,
          ),
          iceServers: this.#iceServers(self.peerId),
          maxMessageSize: hub.options.maxMessageSize,
          relayRate: hub.options.relayRate || null,
        },
      });
    }
    if (!again) hub.events.emit("pair", { pairCode });
  }

  /** Applies an update here when the socket is local, else sends it to its node. */
  #route(update: PeerUpdate): void {
    const local = this.hub.local(update.socketId);
    if (local) this.apply(local, update);
    else this.hub.forward(update);
  }

  /**
   * Applies an update to a socket this node holds: the one place where a
   * socket's partner changes and its client hears of it.
   */
  apply(socket: PeerSocket, update: PeerUpdate): void {
    const { data } = socket;
    switch (update.type) {
      case "found":
        // Decided for a code the socket has left since.
        if (data.pairCode !== update.found.pairCode) return;
        clearTimeout(data.waitTimer);
        data.partner = update.partner;
        socket.emit(WireEvent.FOUND, update.found);
        return;
      case "left":
        if (data.pairCode !== update.left.pairCode) return;
        data.partner = undefined;
        this.#startWaitTimer(socket);
        socket.emit(WireEvent.LEFT, update.left);
        return;
      case "kicked":
        data.pairCode = undefined;
        data.partner = undefined;
        clearTimeout(data.waitTimer);
        socket.emit(WireEvent.LEFT, update.left);
        socket.disconnect(true);
        return;
      case "replaced":
        data.pairCode = undefined;
        data.partner = undefined;
        socket.disconnect(true);
        return;
    }
  }

  /**
   * Joins every local peer again (the store forgot them, or messages between
   * nodes were lost while Redis was out of reach). A pair on this node lost
   * nothing; a pair across nodes is introduced again, so both clients resend
   * what was not acknowledged, and duplicates are dropped on arrival.
   */
  resync(): void {
    for (const socket of this.hub.io.sockets.sockets.values()) {
      if (socket.data.pairCode !== undefined) this.serialize(socket, () => this.#rejoin(socket));
    }
  }

  async #rejoin(socket: PeerSocket): Promise<void> {
    const { pairCode } = socket.data;
    const me = this.#joined.get(socket);
    if (pairCode === undefined || !me || !socket.connected) return;
    const result = await this.hub.registry.join(pairCode, me);
    if (socket.data.pairCode !== pairCode) return;
    if (result.status === "busy") {
      // Two other peers took the code while the store had forgotten this one.
      socket.data.pairCode = undefined;
      socket.data.partner = undefined;
      this.#tellBusy(socket, pairCode);
      return;
    }
    const partner = result.status === "waiting" ? null : result.partner;
    if (!partner && socket.data.partner !== undefined) {
      // The partner is not in the store: if it lives, its node joins it
      // again, and the two are introduced then.
      this.apply(socket, {
        type: "left",
        socketId: socket.id,
        left: { pairCode, reason: "disconnected" },
      });
      return;
    }
    if (partner && partner.socketId === socket.data.partner && this.hub.local(partner.socketId)) {
      return;
    }
    if (partner) {
      if (result.status === "replaced" && result.replaced.socketId !== socket.id) {
        this.#route({ type: "replaced", socketId: result.replaced.socketId });
      }
      this.#introduce(pairCode, partner, me, true);
    }
  }

  /** A partner's node died: its partner here, or on another node, waits again. */
  orphaned(pairCode: string, member: PairMember): void {
    this.#tellLeft(member, pairCode, "disconnected");
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
      this.#reserve(pairCode, peerId);
    }
    socket.data.pairCode = undefined;
    socket.data.partner = undefined;
    const partner = await this.hub.registry.leave(pairCode, socket.id);
    if (!partner) return;
    this.#tellLeft(partner, pairCode, reason);
  }

  #tellLeft(member: PairMember, pairCode: string, reason: PeerLeft["reason"]): void {
    this.#route({ type: "left", socketId: member.socketId, left: { pairCode, reason } });
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
      this.#route({
        type: "kicked",
        socketId: member.socketId,
        left: { pairCode, reason: "kicked" },
      });
    }
    if (members.length > 0) this.hub.events.emit("unpair", { pairCode, reason: "kicked" });
    return members.length;
  }
}
