/** Exact, compact JSON encodings of typed arrays (base64 of their little-endian bytes). */
import { KeelError } from '../core/errors.js';

type Typed = Float64Array | Int32Array | Uint8Array;
type Ctor<T extends Typed> = { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number };

export function encodeArray(a: Typed): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function decodeArray<T extends Typed>(s: unknown, ctor: Ctor<T>, what: string): T {
  if (typeof s !== 'string') throw new KeelError('KEEL_E_MODEL_FORMAT', `${what} must be a base64 string`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length % ctor.BYTES_PER_ELEMENT !== 0)
    throw new KeelError('KEEL_E_MODEL_FORMAT', `${what} has a length that is not a whole number of elements`);
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return new ctor(copy);
}
