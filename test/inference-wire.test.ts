/**
 * The tensor transport between the main thread and a worker, without threads: what is
 * sent, what is held, what is referred to, and that both sides agree on what is held.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorMap } from '../src/families/session.js';
import { HELD_INPUT_MIN_BYTES, HELD_INPUT_SLOTS, HeldInputSender, HeldInputs, decodeTensors, encodeOutputs, type WireFeeds } from '../src/inference/tensor-wire.js';

const big = (fill: number) => new Float32Array(HELD_INPUT_MIN_BYTES / 4).fill(fill);
const tensor = (data: Float32Array) => new ort.Tensor('float32', data, [data.length]);

/** Send through structured clone, as postMessage does, and decode on the "worker" side. */
function deliver(feeds: WireFeeds, transfer: ArrayBuffer[], worker: HeldInputs): TensorMap {
  return worker.decode(structuredClone(feeds, { transfer }));
}

describe('held inputs', () => {
  it('holds a large input from its second sending on, then refers to it; small inputs always travel', () => {
    const sender = new HeldInputSender();
    const worker = new HeldInputs();
    const embedding = big(0.5);
    const send = (pts: number[]) => sender.encode({ emb: tensor(embedding), pts: tensor(Float32Array.from(pts)) });
    const first = send([1, 2]);
    expect(first.value.tensors.emb).not.toHaveProperty('hold');
    expect('data' in first.value.tensors.pts).toBe(true);
    deliver(first.value, first.transfer, worker);
    const second = send([3, 4]);
    expect(second.value.tensors.emb).toMatchObject({ hold: 1 });
    deliver(second.value, second.transfer, worker);
    const third = send([5, 6]);
    expect(third.value.tensors.emb).toEqual({ type: 'float32', dims: [embedding.length], held: 1 });
    const fed = deliver(third.value, third.transfer, worker);
    expect(fed.emb.data).toEqual(embedding);
    expect(Array.from(fed.pts.data as Float32Array)).toEqual([5, 6]);
    expect(sender.holds({ emb: tensor(embedding) })).toBe(true);
  });

  /** Send `array` until the worker holds it. */
  function hold(sender: HeldInputSender, worker: HeldInputs, array: Float32Array): void {
    for (let i = 0; i < 2; i++) {
      const out = sender.encode({ x: tensor(array) });
      deliver(out.value, out.transfer, worker);
    }
  }

  it('sends again, plainly, a held buffer refilled with other data', () => {
    const sender = new HeldInputSender();
    const worker = new HeldInputs();
    const reused = big(1);
    hold(sender, worker, reused);
    reused.fill(2);
    const b = sender.encode({ x: tensor(reused) });
    expect(b.value.tensors.x).not.toHaveProperty('hold');
    expect(b.value.drop).toEqual([1]);
    expect((deliver(b.value, b.transfer, worker).x.data as Float32Array)[0]).toBe(2);
  });

  it('keeps the last few, least recently used dropped first, both sides in step', () => {
    const sender = new HeldInputSender();
    const worker = new HeldInputs();
    const arrays = Array.from({ length: HELD_INPUT_SLOTS + 1 }, (_, i) => big(i));
    for (const a of arrays.slice(0, HELD_INPUT_SLOTS)) hold(sender, worker, a);
    // Touch the first so the second is now the least recently used.
    const touched = sender.encode({ x: tensor(arrays[0]) });
    deliver(touched.value, touched.transfer, worker);
    deliver(sender.encode({ x: tensor(arrays[HELD_INPUT_SLOTS]) }).value, [], worker);
    const extra = sender.encode({ x: tensor(arrays[HELD_INPUT_SLOTS]) });
    expect(extra.value.drop).toEqual([2]);
    deliver(extra.value, extra.transfer, worker);
    expect(sender.holds({ x: tensor(arrays[1]) })).toBe(false);
    for (const i of [0, 2, 3, HELD_INPUT_SLOTS]) {
      const again = sender.encode({ x: tensor(arrays[i]) });
      expect('held' in again.value.tensors.x).toBe(true);
      expect((deliver(again.value, again.transfer, worker).x.data as Float32Array)[0]).toBe(i);
    }
  });

  it('copies only the viewed part of a larger buffer', () => {
    const whole = new Float32Array(1000).fill(7);
    const view = whole.subarray(10, 20);
    const out = new HeldInputSender().encode({ v: new ort.Tensor('float32', view, [10]) });
    const sent = out.value.tensors.v as unknown as { data: Float32Array };
    expect(sent.data.buffer.byteLength).toBe(40);
    expect(out.transfer).toEqual([sent.data.buffer]);
    expect(whole.length).toBe(1000); // the caller's buffer is untouched
  });
});

describe('outputs', () => {
  it('transfer their buffers (once each, never a held one) and decode to equal tensors', () => {
    const held = new HeldInputs();
    const shared = new Float32Array(8).fill(3);
    const outputs = {
      a: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]),
      b: new ort.Tensor('int64', BigInt64Array.from([5n]), [1]),
      c: new ort.Tensor('float32', shared.subarray(0, 4), [4]),
      d: new ort.Tensor('float32', shared.subarray(4), [4]),
    };
    const out = encodeOutputs(outputs, (buffer) => held.isHeld(buffer));
    expect(out.transfer).toHaveLength(3);
    const back = decodeTensors(structuredClone(out.value, { transfer: out.transfer }));
    expect(back.b.type).toBe('int64');
    expect(back.b.data).toEqual(BigInt64Array.from([5n]));
    expect(Array.from(back.d.data as Float32Array)).toEqual([3, 3, 3, 3]);
    expect(Array.from(back.a.data as Float32Array)).toEqual([1, 2]);
  });
});
