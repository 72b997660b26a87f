/**
 * How tensors cross between the main thread and an inference worker without copies that
 * matter.
 *
 * - Outputs come back by transferring their ArrayBuffers: no copy at all.
 * - Small inputs (prompt points, sizes, SAM's 256 KB mask_input) are copied: the caller
 *   still owns them, and the run observer reads them after the run.
 * - Large inputs sent repeatedly are held by the worker and then referred to:
 *   segment-everything feeds the same 4 MB image embedding to the decoder a thousand
 *   times per image. The sender remembers which typed arrays the worker holds (by
 *   identity) and sends an id instead; the worker keeps the last few. SharedArrayBuffer would avoid even the first copy, but
 *   onnxruntime-node rejects tensors backed by one ("Invalid argument").
 */
import * as ort from 'onnxruntime-node';
import type { TensorMap } from './types.js';

/** Inputs at least this large are held by the worker and sent once. */
export const HELD_INPUT_MIN_BYTES = 1 << 20;

/**
 * How many large inputs a worker holds: two images in flight, each with its embedding (SAM
 * 2's is three tensors of 4, 8 and 4 MB, all fed to every decoder run).
 */
export const HELD_INPUT_SLOTS = 6;

/** The element storage of a tensor: a typed array, or strings for string tensors. */
export type WireData = ArrayBufferView | readonly string[];

/** A tensor in a message: its data, or the id of a large input the worker already holds. */
export type WireTensor =
  | { readonly type: string; readonly dims: readonly number[]; readonly data: WireData; readonly hold?: number }
  | { readonly type: string; readonly dims: readonly number[]; readonly held: number };

/** Tensors by name, as they travel. */
export type WireTensors = Record<string, WireTensor>;

/** A run's inputs as they travel, with the held inputs the worker should drop first. */
export interface WireFeeds {
  readonly tensors: WireTensors;
  readonly drop: readonly number[];
}

/** Tensors ready to post, and the buffers to transfer with them. */
export interface Outgoing<T> {
  readonly value: T;
  readonly transfer: ArrayBuffer[];
}

function isTypedArray(data: unknown): data is ArrayBufferView & { readonly length: number } {
  return ArrayBuffer.isView(data);
}

/**
 * A few bytes spread over the whole array, hashed: the held copy is reused only while this
 * is unchanged, so a buffer refilled with a new image is sent again. It does not catch a
 * change to a handful of values; callers must not edit a large input in place between runs.
 */
function sample(view: ArrayBufferView): number {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const n = bytes.length;
  const samples = Math.min(n, 1024);
  let h = 0x811c9dc5 ^ n;
  for (let i = 0; i < samples; i++) {
    h ^= bytes[Math.floor((i * (n - 1)) / Math.max(1, samples - 1))];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A copy of `view` to post. A view over part of a bigger buffer is sliced and transferred
 * (structured clone would copy the whole buffer); a whole-buffer view is cloned by
 * postMessage itself.
 */
function postable(view: ArrayBufferView, transfer: ArrayBuffer[]): ArrayBufferView {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return view;
  const copy = (view as unknown as { slice(): ArrayBufferView }).slice();
  transfer.push(copy.buffer as ArrayBuffer);
  return copy;
}

/**
 * The main thread's side of one worker's held inputs: which large typed arrays the worker
 * holds, in least-recently-used order, mirrored exactly by `HeldInputs` in the worker
 * (the sender decides every drop, so the two never disagree).
 *
 * An array is held from the second time it is sent: an image embedding is sent again and
 * again, an encoder's input (12 MB for a 1024x1024 frame) once, and holding that would
 * only keep dead memory in the worker and push embeddings out.
 */
export class HeldInputSender {
  /** Large arrays sent before: the held id (0 while sent once only) and their sample. */
  private readonly seen = new WeakMap<object, { id: number; print: number }>();
  /** Held ids, least recently used first. */
  private readonly held: number[] = [];
  private nextId = 1;

  /** The wire form of `feeds`. */
  encode(feeds: Readonly<TensorMap>): Outgoing<WireFeeds> {
    const tensors: WireTensors = {};
    const drop: number[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      const data = tensor.data as unknown;
      const dims = [...tensor.dims];
      if (!isTypedArray(data)) {
        tensors[name] = { type: tensor.type, dims, data: data as readonly string[] };
        continue;
      }
      if (data.byteLength < HELD_INPUT_MIN_BYTES || data.buffer instanceof SharedArrayBuffer) {
        tensors[name] = { type: tensor.type, dims, data: postable(data, transfer) };
        continue;
      }
      const print = sample(data);
      const known = this.seen.get(data);
      const at = known && known.id ? this.held.indexOf(known.id) : -1;
      if (known && at >= 0 && known.print === print) {
        this.held.splice(at, 1);
        this.held.push(known.id);
        tensors[name] = { type: tensor.type, dims, held: known.id };
        continue;
      }
      if (at >= 0) drop.push(...this.held.splice(at, 1));
      if (!known || known.print !== print) {
        // First sight (or new contents): send it plainly.
        this.seen.set(data, { id: 0, print });
        tensors[name] = { type: tensor.type, dims, data: postable(data, transfer) };
        continue;
      }
      while (this.held.length >= HELD_INPUT_SLOTS) drop.push(this.held.shift()!);
      const id = this.nextId++;
      this.seen.set(data, { id, print });
      this.held.push(id);
      tensors[name] = { type: tensor.type, dims, data: postable(data, transfer), hold: id };
    }
    return { value: { tensors, drop }, transfer };
  }

  /** True when every large input of `feeds` is already held (worker choice in a pool). */
  holds(feeds: Readonly<TensorMap>): boolean {
    let any = false;
    for (const tensor of Object.values(feeds)) {
      const data = tensor.data as unknown;
      if (!isTypedArray(data) || data.byteLength < HELD_INPUT_MIN_BYTES || data.buffer instanceof SharedArrayBuffer) continue;
      const known = this.seen.get(data);
      if (!known || !known.id || !this.held.includes(known.id)) return false;
      any = true;
    }
    return any;
  }
}

/** The worker's side: the large inputs it holds, by id. */
export class HeldInputs {
  private readonly byId = new Map<number, ArrayBufferView>();

  /** Rebuild a run's feeds, dropping and taking held inputs as the sender said. */
  decode(feeds: WireFeeds): TensorMap {
    for (const id of feeds.drop) this.byId.delete(id);
    const out: TensorMap = {};
    for (const [name, wire] of Object.entries(feeds.tensors)) {
      let data: WireData;
      if ('held' in wire) {
        const held = this.byId.get(wire.held);
        if (!held) throw new Error(`inference worker: input ${name} refers to held tensor ${wire.held}, which it does not hold`);
        data = held;
      } else {
        data = wire.data;
        if (wire.hold !== undefined && isTypedArray(data)) this.byId.set(wire.hold, data);
      }
      out[name] = tensorOf(wire.type, data, wire.dims);
    }
    return out;
  }

  /** Buffers that must stay here: never transfer them away with an output. */
  isHeld(buffer: ArrayBufferLike): boolean {
    for (const view of this.byId.values()) if (view.buffer === buffer) return true;
    return false;
  }
}

/**
 * Outputs to post back, transferring each output's buffer (zero-copy) unless it is shared,
 * held, or already listed (two outputs on one buffer).
 */
export function encodeOutputs(outputs: Readonly<TensorMap>, keep: (buffer: ArrayBufferLike) => boolean = () => false): Outgoing<WireTensors> {
  const value: WireTensors = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, tensor] of Object.entries(outputs)) {
    const data = tensor.data as unknown;
    if (isTypedArray(data) && data.buffer instanceof ArrayBuffer && !keep(data.buffer)) transfer.add(data.buffer);
    value[name] = { type: tensor.type, dims: [...tensor.dims], data: data as WireData };
  }
  return { value, transfer: [...transfer] };
}

/** Tensors from their wire form (outputs on the main thread). */
export function decodeTensors(wire: WireTensors): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(wire)) {
    if ('held' in t) throw new Error(`inference worker: output ${name} cannot refer to a held tensor`);
    out[name] = tensorOf(t.type, t.data, t.dims);
  }
  return out;
}

function tensorOf(type: string, data: WireData, dims: readonly number[]): ort.Tensor {
  // The wire keeps onnxruntime's own type names and storage classes, so this is the
  // constructor call onnxruntime made; TypeScript cannot see that through a string.
  return new ort.Tensor(type as 'float32', data as Float32Array, dims);
}
