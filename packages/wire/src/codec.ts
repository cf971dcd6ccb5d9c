import { Packr } from 'msgpackr';

/**
 * One msgpackr instance per process (stack-notes.md): `moreTypes` keeps typed arrays typed across
 * the wire; no record structures, so both ends need no shared state.
 */
const packr = new Packr({ moreTypes: true, useRecords: false });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decode bytes; throws on bytes that are not one msgpack value. */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
