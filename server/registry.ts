/**
 * Who is paired with whom. Pairing state lives behind {@linkcode PairRegistry}
 * so that a shared store (Redis) can replace the in-memory default without
 * touching the socket handling.
 *
 * @example
 * ```ts
 * import { MemoryPairRegistry } from "./registry.ts";
 * const registry = new MemoryPairRegistry();
 * await registry.join("room-1", { socketId: "a", peerId: "pa", webrtc: true }); // { status: "waiting" }
 * await registry.join("room-1", { socketId: "b", peerId: "pb", webrtc: true }); // { status: "paired", partner: a }
 * await registry.join("room-1", { socketId: "c", peerId: "pc", webrtc: true }); // { status: "busy" }
 * ```
 *
 * @module
 */

/** One peer in a pair: its socket and the client instance behind it. */
export interface PairMember {
  socketId: string;
  peerId: string;
  /** Whether the peer can make a WebRTC connection. */
  webrtc: boolean;
  /** Whether the peer decodes BATCH frames (absent: it does not). */
  batch?: boolean;
  /** The largest frame the peer accepts (absent: `BASE_FRAME_SIZE`). */
  maxFrameSize?: number;
}

/** What joining a pair code gave. */
export type JoinResult =
  | { status: "waiting" }
  | { status: "paired"; partner: PairMember }
  | { status: "busy" }
  /** The same client (same peerId) rejoined from a new socket; the old socket is replaced. */
  | { status: "replaced"; replaced: PairMember; partner: PairMember | null };

/** Counts of pair codes by state. */
export interface RegistryStats {
  /** Pair codes with one peer, waiting for a partner. */
  waiting: number;
  /** Pair codes with two peers. */
  paired: number;
}

/**
 * What a registry shared by several server processes notices by itself.
 *
 * - `orphaned`: the partner of `member` was on a server process that died
 *   (its heartbeat lapsed) and was removed; `member` now waits alone.
 * - `lost`: the store forgot this process's entries (it restarted empty, or
 *   this process was presumed dead); the process should join its peers again.
 */
export type RegistryEvent =
  | { type: "orphaned"; pairCode: string; member: PairMember }
  | { type: "lost" };

/**
 * The pairing store. Every decision is atomic: two peers that join one code
 * at the same moment pair exactly once, and a third is busy.
 *
 * A store shared by several server processes (see `RedisPairRegistry`) also
 * implements the optional members: the members a process recorded vanish
 * when the process dies, as they do from an in-memory registry.
 */
export interface PairRegistry {
  /** Adds a member under a code, or reports the code busy. */
  join(pairCode: string, member: PairMember): Promise<JoinResult>;
  /** Removes a member; returns the partner that stays, if any. */
  leave(pairCode: string, socketId: string): Promise<PairMember | null>;
  /** Removes a whole pair; returns the members it had. */
  clear(pairCode: string): Promise<PairMember[]>;
  /** The members under a code. */
  members(pairCode: string): Promise<PairMember[]>;
  /** Live counts. */
  stats(): Promise<RegistryStats>;
  /** Subscribes to what a shared registry notices by itself. */
  watch?(listener: (event: RegistryEvent) => void): void;
  /** Resolves when the store answers; rejects when it cannot be reached. */
  ping?(): Promise<void>;
  /** Stops the registry's timers and connections; the store keeps its data. */
  close?(): Promise<void>;
}

/**
 * The in-memory registry of one server process. Codes are `Map` keys, so a
 * code such as `__proto__` is an ordinary code.
 */
export class MemoryPairRegistry implements PairRegistry {
  #pairs = new Map<string, PairMember[]>();

  join(pairCode: string, member: PairMember): Promise<JoinResult> {
    const members = this.#pairs.get(pairCode) ?? [];
    const same = members.findIndex((m) => m.peerId === member.peerId);
    if (same >= 0) {
      const replaced = members[same];
      members[same] = member;
      return Promise.resolve({
        status: "replaced",
        replaced,
        partner: members.find((m) => m !== member) ?? null,
      });
    }
    if (members.length >= 2) return Promise.resolve({ status: "busy" });
    members.push(member);
    this.#pairs.set(pairCode, members);
    return Promise.resolve(
      members.length === 2 ? { status: "paired", partner: members[0] } : { status: "waiting" },
    );
  }

  leave(pairCode: string, socketId: string): Promise<PairMember | null> {
    const members = this.#pairs.get(pairCode);
    if (!members) return Promise.resolve(null);
    const rest = members.filter((m) => m.socketId !== socketId);
    if (rest.length === 0) this.#pairs.delete(pairCode);
    else this.#pairs.set(pairCode, rest);
    return Promise.resolve(rest.length < members.length ? rest[0] ?? null : null);
  }

  clear(pairCode: string): Promise<PairMember[]> {
    const members = this.#pairs.get(pairCode) ?? [];
    this.#pairs.delete(pairCode);
    return Promise.resolve(members);
  }

  members(pairCode: string): Promise<PairMember[]> {
    return Promise.resolve([...(this.#pairs.get(pairCode) ?? [])]);
  }

  stats(): Promise<RegistryStats> {
    let waiting = 0;
    let paired = 0;
    for (const members of this.#pairs.values()) {
      if (members.length === 2) paired++;
      else waiting++;
    }
    return Promise.resolve({ waiting, paired });
  }
}
