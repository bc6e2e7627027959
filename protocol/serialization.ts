// Browser-safe: no Deno or Node APIs.
/**
 * How application values become message payloads and back, the same way on
 * both paths.
 *
 * | sent                                   | `"json"` (default) | `"binary"`    | `"raw"`  | arrives as     |
 * | -------------------------------------- | ------------------ | ------------- | -------- | -------------- |
 * | string                                 | text               | text          | text     | string         |
 * | ArrayBuffer, TypedArray, DataView, Blob | bytes              | bytes         | bytes    | ArrayBuffer    |
 * | other values (objects, numbers, …)     | JSON               | MessagePack   | refused  | the value      |
 *
 * @example
 * ```ts
 * import { decodePayload, encodePayload } from "./serialization.ts";
 * const { kind, payload } = encodePayload({ hello: "world" }, "json") as EncodedPayload;
 * decodePayload(kind, payload); // { hello: "world" }
 * ```
 *
 * @module
 */
import { decode as msgpackDecode, encode as msgpackEncode } from "npm:@msgpack/msgpack@3.1.3";
import { ErrorCode, SocketPeerError } from "./errors.ts";
import { PayloadKind } from "./frame.ts";

/** How non-text, non-binary values are encoded. */
export type Serialization = "json" | "binary" | "raw";

/** The serializations accepted by the `serialization` option. */
export const SERIALIZATIONS: readonly Serialization[] = ["json", "binary", "raw"];

/** A payload ready for the outbox. */
export interface EncodedPayload {
  kind: PayloadKind;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes one application value.
 *
 * @param data The value given to `send()`.
 * @param serialization How to encode values that are neither text nor binary.
 * @returns The payload, or a Promise of it for a Blob (read asynchronously).
 * @throws {SocketPeerError} `ERR_INVALID_DATA` when the value cannot be encoded.
 */
export function encodePayload(
  data: unknown,
  serialization: Serialization,
): EncodedPayload | Promise<EncodedPayload> {
  if (typeof data === "string") return { kind: PayloadKind.STRING, payload: encoder.encode(data) };
  if (data instanceof ArrayBuffer) {
    return { kind: PayloadKind.BINARY, payload: new Uint8Array(data) };
  }
  if (ArrayBuffer.isView(data)) {
    return {
      kind: PayloadKind.BINARY,
      payload: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  }
  if (typeof Blob !== "undefined" && data instanceof Blob) {
    return data.arrayBuffer().then((buffer) => ({
      kind: PayloadKind.BINARY,
      payload: new Uint8Array(buffer),
    }));
  }
  if (serialization === "raw") {
    throw new SocketPeerError(
      ErrorCode.INVALID_DATA,
      `serialization "raw" sends only strings and binary, not ${describe(data)}`,
    );
  }
  if (serialization === "binary") {
    try {
      return { kind: PayloadKind.MSGPACK, payload: msgpackEncode(data) };
    } catch (cause) {
      throw new SocketPeerError(
        ErrorCode.INVALID_DATA,
        `cannot encode ${describe(data)} as MessagePack`,
        { cause },
      );
    }
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new SocketPeerError(ErrorCode.INVALID_DATA, `cannot encode ${describe(data)} as JSON`, {
      cause,
    });
  }
  if (json === undefined) {
    throw new SocketPeerError(ErrorCode.INVALID_DATA, `cannot encode ${describe(data)} as JSON`);
  }
  return { kind: PayloadKind.JSON, payload: encoder.encode(json) };
}

/**
 * How binary messages reach the application: `"arraybuffer"`, an
 * ArrayBuffer of their own (a copy of the payload), or `"uint8array"`, a
 * Uint8Array that views the received bytes where they are (no copy).
 */
export type BinaryType = "arraybuffer" | "uint8array";

/** Every {@linkcode BinaryType}. */
export const BINARY_TYPES: readonly BinaryType[] = ["arraybuffer", "uint8array"];

/**
 * Decodes one payload, whatever serialization the sender chose.
 *
 * @param kind The payload kind from the frame header.
 * @param payload The reassembled bytes.
 * @param binaryType How a binary payload is handed over.
 * @returns The value to hand to the application.
 * @throws {SocketPeerError} `ERR_INVALID_PAYLOAD` when the bytes do not decode.
 *
 * @example
 * ```ts
 * decodePayload(PayloadKind.BINARY, bytes); // an ArrayBuffer holding a copy
 * decodePayload(PayloadKind.BINARY, bytes, "uint8array") === bytes; // true
 * ```
 */
export function decodePayload(
  kind: PayloadKind,
  payload: Uint8Array,
  binaryType: BinaryType = "arraybuffer",
): unknown {
  switch (kind) {
    case PayloadKind.STRING:
      return decoder.decode(payload);
    case PayloadKind.BINARY:
      // An ArrayBuffer must be a copy: the payload views a frame (or a batch of them).
      return binaryType === "uint8array" ? payload : new Uint8Array(payload).buffer;
    default:
      try {
        return kind === PayloadKind.JSON
          ? JSON.parse(decoder.decode(payload))
          : msgpackDecode(payload);
      } catch (cause) {
        throw new SocketPeerError(ErrorCode.INVALID_PAYLOAD, "payload does not decode", { cause });
      }
  }
}

function describe(data: unknown): string {
  if (data === null) return "null";
  if (typeof data === "object") return data.constructor?.name ?? "an object";
  return `a ${typeof data}`;
}
