// Browser-safe: runs in browsers and in Deno.
/**
 * The Negotiator alone owns the RTCPeerConnection: it makes (or answers) one
 * upgrade attempt at a time, trades signals through the caller, queues ICE
 * candidates until the remote description is set, and reports the
 * DataChannel's opening and death. Every attempt has an id; signals of
 * another attempt are ignored, so a late candidate can never reach a new
 * connection.
 *
 * @example
 * ```ts
 * const negotiator = new Negotiator(RTCPeerConnection, {}, 15_000);
 * negotiator.on("signal", (signal) => socket.emit("signal", signal));
 * negotiator.on("open", (channel) => console.log("direct!", channel.label));
 * negotiator.offer([]); // as the initiator
 * ```
 *
 * @module
 */
import { Emitter } from "../protocol/emitter.ts";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import type { RTCIceServerInit, Signal } from "../protocol/events.ts";
import { BASE_FRAME_SIZE } from "../protocol/frame.ts";

/** The DataChannel's label. */
export const CHANNEL_LABEL = "socketpeer";

/** What a Negotiator reports. */
export interface NegotiatorEvents {
  [event: string]: unknown[];
  /** A signal to hand to the partner through the server. */
  signal: [signal: Signal];
  /** An attempt began (an offer was made or received). */
  attempt: [];
  /** The DataChannel is open. */
  open: [channel: RTCDataChannel];
  /** An attempt failed before the channel opened. */
  failed: [error: SocketPeerError];
  /** The open channel died. */
  closed: [];
  /** Frames arrived on the channel. */
  message: [data: ArrayBuffer];
  /** The channel's send buffer fell below its low threshold. */
  drain: [];
}

let attemptCounter = 0;

/**
 * Rewrites an offer's `a=setup:actpass` as `a=setup:active`, so that the
 * answerer answers `a=setup:passive` and the offerer is the DTLS client.
 *
 * Why: with the default roles the answerer is the DTLS client, and its ICE
 * connects before the offerer even has the answer, so its ClientHello always
 * reaches the offerer before the offerer's DTLS transport exists.
 * libdatachannel (0.24.5, in node-datachannel 0.33.4) buffers that datagram,
 * but replays it when the DTLS transport starts, before the transport counts
 * as connecting; when its worker thread gets there first, the ClientHello
 * waits in a queue until the client resends it, after OpenSSL's 1 s
 * retransmission timer. As the client, the offerer sends its ClientHello only
 * once its own ICE is up, when the answerer's DTLS transport is long started.
 * Browsers answer such offers as well (RFC 4145 allows an active offer).
 *
 * @param sdp The local offer, as the RTCPeerConnection made it.
 * @returns The offer to send to the partner.
 *
 * @example
 * ```ts
 * asDtlsClientOffer("a=setup:actpass\r\n"); // "a=setup:active\r\n"
 * ```
 */
export function asDtlsClientOffer(sdp: string): string {
  return sdp.replace(/^a=setup:actpass(?=\r?$)/gm, "a=setup:active");
}

/**
 * The max-message-size a session description announces (RFC 8841): its
 * `a=max-message-size` value, Infinity for 0 (no limit), and 65,536 when it
 * announces none.
 *
 * @param sdp A session description.
 * @returns The largest message its side accepts, in bytes.
 *
 * @example
 * ```ts
 * announcedMessageLimit("a=max-message-size:262144\r\n"); // 262144
 * announcedMessageLimit("v=0\r\n"); // 65536
 * ```
 */
export function announcedMessageLimit(sdp: string): number {
  const match = /^a=max-message-size:(\d+)\s*$/m.exec(sdp);
  if (!match) return BASE_FRAME_SIZE;
  const size = Number(match[1]);
  return size === 0 ? Infinity : size;
}

/** Owns one RTCPeerConnection at a time. */
export class Negotiator extends Emitter<NegotiatorEvents> {
  #pc: RTCPeerConnection | null = null;
  #channel: RTCDataChannel | null = null;
  #attempt: string | null = null;
  #open = false;
  #frameSize = BASE_FRAME_SIZE;
  #remoteSet = false;
  #pendingRemote: RTCIceCandidateInit[] = [];
  #pendingLocal: Signal[] = [];
  #localSent = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param Impl The RTCPeerConnection constructor to use.
   * @param config Base configuration; `iceServers` are appended per attempt.
   * @param timeout Milliseconds an attempt may take.
   */
  constructor(
    private readonly Impl: typeof RTCPeerConnection,
    private readonly config: RTCConfiguration,
    private readonly timeout: number,
  ) {
    super();
  }

  /** The open DataChannel, or null. */
  get channel(): RTCDataChannel | null {
    return this.#open ? this.#channel : null;
  }

  /** The current RTCPeerConnection, or null. */
  get connection(): RTCPeerConnection | null {
    return this.#pc;
  }

  /** Whether an attempt is under way or a channel is open. */
  get busy(): boolean {
    return this.#pc !== null;
  }

  /**
   * Sets the largest message a channel must carry (the stream's frame size).
   * A channel whose max-message-size is smaller is not used: an attempt that
   * opens one fails, and an open one is closed.
   *
   * @param frameSize Bytes of the largest frame.
   */
  require(frameSize: number): void {
    this.#frameSize = frameSize;
    if (this.#open && this.#messageLimit() < frameSize) this.close();
  }

  /**
   * The largest message this side may send on the connection's channels:
   * `RTCSctpTransport.maxMessageSize` once the transport knows it, else what
   * the partner's description announces (node-datachannel's transport says
   * null until its connection state catches up, which can be after a
   * channel opens).
   */
  #messageLimit(): number {
    const known = this.#pc?.sctp?.maxMessageSize;
    if (typeof known === "number" && known > 0) return known;
    return announcedMessageLimit(this.#pc?.remoteDescription?.sdp ?? "");
  }

  /**
   * Starts an attempt as the initiator: makes the channel and the offer.
   *
   * @param iceServers ICE servers for this attempt.
   */
  offer(iceServers: RTCIceServerInit[]): void {
    const attempt = `${Date.now().toString(36)}-${(++attemptCounter).toString(36)}-${
      Math.random().toString(36).slice(2, 8)
    }`;
    const pc = this.#begin(attempt, iceServers);
    if (!pc) return;
    try {
      this.#adopt(pc.createDataChannel(CHANNEL_LABEL, { ordered: true }));
    } catch (err) {
      this.#fail(`cannot create a DataChannel: ${err}`, true);
      return;
    }
    this.#run(attempt, async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.#sendLocal({ type: "offer", attempt, sdp: asDtlsClientOffer(pc.localDescription!.sdp) });
    });
  }

  /**
   * Handles a signal from the partner.
   *
   * @param signal The checked signal.
   * @param iceServers ICE servers, used when the signal starts an attempt.
   */
  signal(signal: Signal, iceServers: RTCIceServerInit[]): void {
    if (signal.type === "offer") {
      if (this.#open) this.close();
      const pc = this.#begin(signal.attempt, iceServers);
      if (!pc) return;
      pc.ondatachannel = (event) => this.#adopt(event.channel);
      this.#run(signal.attempt, async () => {
        await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp! });
        await this.#remoteReady(pc);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.#sendLocal({ type: "answer", attempt: signal.attempt, sdp: pc.localDescription!.sdp });
      });
      return;
    }
    if (signal.attempt !== this.#attempt || !this.#pc) return;
    const pc = this.#pc;
    if (signal.type === "answer") {
      this.#run(signal.attempt, async () => {
        await pc.setRemoteDescription({ type: "answer", sdp: signal.sdp! });
        await this.#remoteReady(pc);
      });
    } else if (signal.type === "candidate") {
      if (!signal.candidate) return;
      if (this.#remoteSet) {
        pc.addIceCandidate(signal.candidate).catch(() => {/* a stale candidate is harmless */});
      } else {
        this.#pendingRemote.push(signal.candidate);
      }
    } else if (signal.type === "close") {
      if (this.#open) this.close();
      else this.#fail("the partner abandoned the attempt", false);
    }
  }

  #begin(attempt: string, iceServers: RTCIceServerInit[]): RTCPeerConnection | null {
    this.#teardown();
    this.#attempt = attempt;
    let pc: RTCPeerConnection;
    try {
      pc = new this.Impl({
        ...this.config,
        iceServers: [...(this.config.iceServers ?? []), ...iceServers],
      });
    } catch (err) {
      this.emit("attempt");
      this.#fail(`cannot create an RTCPeerConnection: ${err}`, true);
      return null;
    }
    this.#pc = pc;
    this.emit("attempt");
    pc.onicecandidate = (event) => {
      if (this.#attempt !== attempt) return;
      const candidate = event.candidate
        ? (typeof event.candidate.toJSON === "function"
          ? event.candidate.toJSON()
          : event.candidate) as RTCIceCandidateInit
        : null;
      if (!candidate?.candidate) return;
      this.#sendLocal({
        type: "candidate",
        attempt,
        candidate: {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? null,
          sdpMLineIndex: candidate.sdpMLineIndex ?? null,
          ...(candidate.usernameFragment ? { usernameFragment: candidate.usernameFragment } : {}),
        },
      });
    };
    pc.onconnectionstatechange = () => {
      if (this.#attempt !== attempt) return;
      const state = pc.connectionState;
      if (state === "failed" || state === "closed") {
        if (this.#open) this.close();
        else this.#fail(`connection ${state}`, true);
      }
    };
    this.#timer = setTimeout(() => {
      if (this.#attempt === attempt && !this.#open) {
        this.#fail(`no direct connection within ${this.timeout} ms`, true);
      }
    }, this.timeout);
    return pc;
  }

  /** Sends description first, candidates after: a candidate never precedes its description. */
  #sendLocal(signal: Signal): void {
    if (signal.type === "candidate" && !this.#localSent) {
      this.#pendingLocal.push(signal);
      return;
    }
    this.emit("signal", signal);
    if (signal.type === "offer" || signal.type === "answer") {
      this.#localSent = true;
      for (const queued of this.#pendingLocal.splice(0)) this.emit("signal", queued);
    }
  }

  async #remoteReady(pc: RTCPeerConnection): Promise<void> {
    this.#remoteSet = true;
    for (const candidate of this.#pendingRemote.splice(0)) {
      await pc.addIceCandidate(candidate).catch(() => {/* a stale candidate is harmless */});
    }
  }

  #run(attempt: string, step: () => Promise<void>): void {
    step().catch((err) => {
      if (this.#attempt === attempt) this.#fail(`negotiation failed: ${err?.message ?? err}`, true);
    });
  }

  #adopt(channel: RTCDataChannel): void {
    const attempt = this.#attempt;
    this.#channel = channel;
    channel.binaryType = "arraybuffer";
    channel.bufferedAmountLowThreshold = 256 * 1024;
    channel.onopen = () => {
      if (this.#attempt !== attempt) return;
      const limit = this.#messageLimit();
      if (limit < this.#frameSize) {
        this.#fail(
          `the DataChannel carries messages of at most ${limit} bytes; frames of ${this.#frameSize} bytes need more`,
          true,
        );
        return;
      }
      clearTimeout(this.#timer);
      this.#open = true;
      this.emit("open", channel);
    };
    channel.onmessage = (event) => {
      if (this.#attempt === attempt) this.emit("message", event.data as ArrayBuffer);
    };
    channel.onbufferedamountlow = () => {
      if (this.#attempt === attempt) this.emit("drain");
    };
    const lost = () => {
      if (this.#attempt !== attempt) return;
      if (this.#open) this.close();
      else this.#fail("the DataChannel closed before it opened", true);
    };
    channel.onclose = lost;
    channel.onerror = lost;
  }

  #fail(why: string, tellPartner: boolean): void {
    const attempt = this.#attempt;
    this.#teardown();
    if (tellPartner && attempt) this.emit("signal", { type: "close", attempt });
    this.emit("failed", new SocketPeerError(ErrorCode.UPGRADE, `Upgrade failed: ${why}`));
  }

  /**
   * Closes the connection. When a channel was open, emits `closed` (the
   * caller downgrades); the partner sees its channel close.
   */
  close(): void {
    const wasOpen = this.#open;
    const attempt = this.#attempt;
    this.#teardown();
    if (attempt && wasOpen) this.emit("signal", { type: "close", attempt });
    if (wasOpen) this.emit("closed");
  }

  /** Drops the connection without a word: used when the peer is destroyed. */
  #teardown(): void {
    clearTimeout(this.#timer);
    const pc = this.#pc;
    const channel = this.#channel;
    this.#pc = null;
    this.#channel = null;
    this.#attempt = null;
    this.#open = false;
    this.#remoteSet = false;
    this.#localSent = false;
    this.#pendingRemote = [];
    this.#pendingLocal = [];
    if (channel) {
      channel.onopen =
        channel.onmessage =
        channel.onclose =
        channel.onerror =
          null;
      channel.onbufferedamountlow = null;
      try {
        channel.close();
      } catch { /* already closed */ }
    }
    if (pc) {
      pc.onicecandidate = pc.onconnectionstatechange = pc.ondatachannel = null;
      try {
        pc.close();
      } catch { /* already closed */ }
    }
  }

  /** Ends everything silently. */
  destroy(): void {
    this.#teardown();
    this.removeAllListeners();
  }
}
