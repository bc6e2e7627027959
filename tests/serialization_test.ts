import assert from "node:assert/strict";
import { ErrorCode, SocketPeerError } from "../protocol/errors.ts";
import { PayloadKind } from "../protocol/frame.ts";
import {
  decodePayload,
  type EncodedPayload,
  encodePayload,
  type Serialization,
} from "../protocol/serialization.ts";

const roundTrip = async (value: unknown, serialization: Serialization) => {
  const { kind, payload } = await encodePayload(value, serialization);
  return { kind, value: decodePayload(kind, payload) };
};

Deno.test("strings arrive as strings under every serialization", async () => {
  for (const s of ["json", "binary", "raw"] as const) {
    const { kind, value } = await roundTrip("héllo ✓", s);
    assert.equal(kind, PayloadKind.STRING);
    assert.equal(value, "héllo ✓");
  }
});

Deno.test("ArrayBuffer, TypedArray, DataView and Blob arrive as an ArrayBuffer of the same bytes", async () => {
  const bytes = new Uint8Array([0, 1, 2, 254, 255]);
  const inputs: unknown[] = [
    bytes.buffer.slice(0),
    bytes,
    new Uint16Array(new Uint8Array([1, 2, 3, 4]).buffer),
    new DataView(bytes.buffer.slice(0)),
    new Uint8Array([9, 9, 0, 1, 2, 254, 255, 9]).subarray(2, 7),
    new Blob([bytes]),
  ];
  for (const input of inputs) {
    const { kind, value } = await roundTrip(input, "json");
    assert.equal(kind, PayloadKind.BINARY);
    assert.ok(value instanceof ArrayBuffer);
    const expected = input instanceof Uint16Array ? [1, 2, 3, 4] : [...bytes];
    assert.deepEqual([...new Uint8Array(value)], expected);
  }
});

Deno.test("plain objects round-trip as JSON under 'json'", async () => {
  const value = { a: 1, b: [true, null, "x"], c: { d: 2.5 } };
  const out = await roundTrip(value, "json");
  assert.equal(out.kind, PayloadKind.JSON);
  assert.deepEqual(out.value, value);
});

Deno.test("'binary' serialization round-trips objects with binary fields through MessagePack", async () => {
  const value = { name: "file", bytes: new Uint8Array([1, 2, 3]), n: 42 };
  const out = await roundTrip(value, "binary");
  assert.equal(out.kind, PayloadKind.MSGPACK);
  assert.deepEqual(out.value, value);
});

Deno.test("'raw' serialization refuses values that are neither text nor binary", () => {
  assert.throws(
    () => encodePayload({ a: 1 }, "raw"),
    (err) => err instanceof SocketPeerError && err.code === ErrorCode.INVALID_DATA,
  );
});

Deno.test("values JSON cannot encode are refused with ERR_INVALID_DATA", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const value of [undefined, () => 1, cyclic, 10n]) {
    assert.throws(
      () => encodePayload(value, "json"),
      (err) => err instanceof SocketPeerError && err.code === ErrorCode.INVALID_DATA,
      String(typeof value),
    );
  }
});

Deno.test("a payload that does not decode is refused with ERR_INVALID_PAYLOAD", () => {
  const broken: EncodedPayload = { kind: PayloadKind.JSON, payload: new TextEncoder().encode("{") };
  assert.throws(
    () => decodePayload(broken.kind, broken.payload),
    (err) => err instanceof SocketPeerError && err.code === ErrorCode.INVALID_PAYLOAD,
  );
});

Deno.test("a binary payload viewing a larger buffer arrives as exactly its own bytes", () => {
  const pool = new Uint8Array([7, 7, 1, 2, 3, 7]);
  const value = decodePayload(PayloadKind.BINARY, pool.subarray(2, 5));
  assert.ok(value instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(value)], [1, 2, 3]);
});
