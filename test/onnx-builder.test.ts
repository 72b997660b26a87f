/**
 * The ONNX graph builder: bytes ONNX Runtime accepts, metadata as declared, determinism,
 * attribute typing, subgraphs, and the nn helpers against plain-JS references.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, decodeModel, float, tensorAttr } from '../scripts/onnx/index.js';
import { SeededRandom, attention, conv2d, gelu, layerNorm, linear, toFloat16Bits, transformerBlock } from '../scripts/onnx/nn.js';

const run = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
  const session = await ort.InferenceSession.create(bytes);
  return { session, out: await session.run(feeds) };
};
const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);

describe('GraphBuilder', () => {
  it('builds a model ONNX Runtime runs, with declared names, dtypes and symbolic dims', async () => {
    const g = new GraphBuilder({ name: 'affine' });
    const x = g.input('x', 'float32', ['batch', 3]);
    const y = g.add(g.mul(x, g.scalar(2)), g.f32([1, 2, 3]));
    g.output(y, 'y', 'float32', ['batch', 3]);
    const { session, out } = await run(g.toBytes(), { x: f32([1, 1, 1, 0, 0, 0], [2, 3]) });
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const meta = session.outputMetadata[0];
    expect(meta.isTensor && meta.shape).toEqual(['batch', 3]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([3, 4, 5, 1, 2, 3]);
  });

  it('is deterministic, and renames instead of copying when a node output becomes an output', () => {
    const build = () => {
      const g = new GraphBuilder();
      const x = g.input('x', 'float32', [4]);
      g.output(g.op('Relu', [x]), 'relu', 'float32', [4]);
      g.output(x, 'passthrough', 'float32', [4]);
      return g.toBytes({ metadata: { a: 'b' } });
    };
    const a = build();
    expect(Buffer.compare(a, build())).toBe(0);
    const model = decodeModel(a) as { graph: { node: { op_type: string; output: string[] }[] }; metadata_props: unknown[] };
    expect(model.graph.node.map((n) => n.op_type)).toEqual(['Relu', 'Identity']);
    expect(model.graph.node[0].output).toEqual(['relu']);
    expect(model.metadata_props).toEqual([{ key: 'a', value: 'b' }]);
  });

  it('stores identical constants once and rejects duplicate names', () => {
    const g = new GraphBuilder();
    const a = g.constant('float32', [2], [1, 2]);
    expect(g.constant('float32', [2], new Float32Array([1, 2]))).toBe(a);
    expect(g.constant('float32', [1, 2], [1, 2])).not.toBe(a);
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/duplicate/);
    expect(() => g.constant('float32', [3], [1, 2])).toThrow(/2 values/);
  });

  it('types attributes: ints, floats (by name or float()), strings, lists and tensors', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 3]);
    const e = g.op('Elu', [x], { alpha: 2 }); // known float attribute, integral value
    const l = g.op('LeakyRelu', [x], { alpha: float(1) });
    const t = g.transpose(x, [1, 0]);
    const c = g.op('ConstantOfShape', [g.i64([2])], { value: tensorAttr('int64', [1], [7]) });
    const four = g.reshape(g.slice(g.reshape(x, [6]), [0], [4]), [1, 4, 1, 1]);
    const s = g.op('DepthToSpace', [four], { blocksize: 2, mode: 'CRD' });
    g.output(e, 'e', 'float32', [2, 3]);
    g.output(l, 'l', 'float32', [2, 3]);
    g.output(t, 't', 'float32', [3, 2]);
    g.output(c, 'c', 'int64', [2]);
    g.output(s, 's', 'float32', [1, 1, 2, 2]);
    const model = decodeModel(g.toBytes()) as { graph: { node: { op_type: string; attribute: Record<string, unknown>[] }[] } };
    const attr = (op: string) => model.graph.node.find((n) => n.op_type === op)!.attribute[0];
    expect(attr('Elu')).toMatchObject({ name: 'alpha', type: 1, f: 2 });
    expect(attr('Transpose')).toMatchObject({ name: 'perm', type: 7, ints: [1, 0] });
    expect(attr('LeakyRelu')).toMatchObject({ name: 'alpha', type: 1, f: 1 });
    const d2s = model.graph.node.find((n) => n.op_type === 'DepthToSpace')!.attribute;
    expect(d2s[0]).toMatchObject({ name: 'blocksize', type: 2, i: 2 });
    expect(d2s[1]).toMatchObject({ name: 'mode', type: 3 });
    const { out } = await run(g.toBytes(), { x: f32([1, -1, 2, -2, 0, 3], [2, 3]) });
    expect(Array.from(out.s.data as Float32Array)).toEqual([1, -1, 2, -2]);
    expect(Array.from(out.c.data as BigInt64Array)).toEqual([7n, 7n]);
    expect((out.e.data as Float32Array)[1]).toBeCloseTo(2 * (Math.exp(-1) - 1), 5);
    expect(Array.from(out.t.data as Float32Array)).toEqual([1, -2, -1, 0, 2, 3]);
  });

  it('builds Loop and If bodies that capture outer values', async () => {
    const g = new GraphBuilder();
    const limit = g.input('limit', 'float32', []);
    const step = g.scalar(1.5); // an outer constant used inside the body
    const body = g.subgraph('body');
    body.input('i', 'int64', []);
    body.input('cond', 'bool', []);
    const acc = body.input('acc', 'float32', []);
    const next = body.add(acc, step);
    body.output(body.op('Less', [next, limit]), 'cond_out', 'bool', []);
    body.output(next, 'acc_out', 'float32', []);
    const [total] = g.op('Loop', [g.scalarI64(100), g.constant('bool', [], [1]), g.scalar(0)], { body }, 1);
    const yes = g.subgraph('then');
    yes.output(yes.mul(total, g.scalar(2)), 'doubled', 'float32', []);
    const no = g.subgraph('else');
    no.output(no.constant('float32', [], [-1]), 'minus_one', 'float32', []);
    const [picked] = g.op('If', [g.op('Greater', [total, g.scalar(5)])], { then_branch: yes, else_branch: no }, 1);
    g.output(total, 'total', 'float32', []);
    g.output(picked, 'picked', 'float32', []);
    const { out } = await run(g.toBytes(), { limit: f32([7], []) });
    expect(out.total.data[0]).toBe(7.5);
    expect(out.picked.data[0]).toBe(15);
    const small = await run(g.toBytes(), { limit: f32([2], []) });
    expect(small.out.total.data[0]).toBe(3);
    expect(small.out.picked.data[0]).toBe(-1);
  });

  it('refuses values from a graph the node cannot see', () => {
    const g = new GraphBuilder();
    const body = g.subgraph('body');
    const inner = body.input('v', 'float32', []);
    expect(() => g.op('Relu', [inner])).toThrow(/cannot see/);
  });

  it('writes int64, bool, int32 and float16 constants', async () => {
    const g = new GraphBuilder();
    const h = g.constant('float16', [3], toFloat16Bits(new Float32Array([1, -2.5, 65504])));
    g.output(g.cast(h, 'float32'), 'h', 'float32', [3]);
    g.output(g.constant('int64', [2], [2 ** 40, -3]), 'l', 'int64', [2]);
    g.output(g.constant('bool', [2], [1, 0]), 'b', 'bool', [2]);
    g.output(g.constant('int32', [1], [-7]), 'i', 'int32', [1]);
    const { out } = await run(g.toBytes(), {});
    expect(Array.from(out.h.data as Float32Array)).toEqual([1, -2.5, 65504]);
    expect(Array.from(out.l.data as BigInt64Array)).toEqual([2n ** 40n, -3n]);
    expect(Array.from(out.b.data as Uint8Array).map(Boolean)).toEqual([true, false]);
    expect(Array.from(out.i.data as Int32Array)).toEqual([-7]);
  });
});

describe('nn helpers', () => {
  it('linear + GELU + LayerNorm match a plain-JS computation', async () => {
    const rng = new SeededRandom(3);
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 2, 4]);
    const y = layerNorm(g, gelu(g, linear(g, x, 4, 3, { rng, std: 0.5 })), 3);
    g.output(y, 'y', 'float32', [1, 2, 3]);
    const w = new SeededRandom(3).normal(12, 0.5); // the same draws linear() made
    const xs = [0.1, -0.2, 0.3, 0.4, 1, 2, -1, 0.5];
    const { out } = await run(g.toBytes(), { x: f32(xs, [1, 2, 4]) });
    for (let t = 0; t < 2; t++) {
      const h = [0, 1, 2].map((o) => {
        let s = 0;
        for (let i = 0; i < 4; i++) s += xs[t * 4 + i] * w[i * 3 + o];
        return 0.5 * s * (1 + erf(s / Math.SQRT2));
      });
      const mean = h.reduce((a, b) => a + b) / 3;
      const variance = h.reduce((a, b) => a + (b - mean) ** 2, 0) / 3;
      h.forEach((v, o) => expect((out.y.data as Float32Array)[t * 3 + o]).toBeCloseTo((v - mean) / Math.sqrt(variance + 1e-6), 4));
    }
  });

  it('attention, conv and a transformer block run with the expected shapes', async () => {
    const init = { rng: new SeededRandom(1) };
    const g = new GraphBuilder();
    const img = g.input('img', 'float32', [1, 3, 32, 32]);
    const patches = conv2d(g, img, 3, 16, 8, init, { stride: 8 }); // [1, 16, 4, 4]
    const tokens = g.transpose(g.reshape(patches, [1, 16, 16]), [0, 2, 1]); // [1, 16 tokens, 16]
    const block = transformerBlock(g, tokens, 16, 2, 4, init);
    const query = g.input('q', 'float32', [1, 'n', 16]);
    const cross = attention(g, query, block, block, 16, 2, init, 8);
    g.output(block, 'block', 'float32', [1, 16, 16]);
    g.output(cross, 'cross', 'float32', [1, 'n', 16]);
    const { out } = await run(g.toBytes(), {
      img: new ort.Tensor('float32', new SeededRandom(2).normal(3 * 32 * 32, 1), [1, 3, 32, 32]),
      q: new ort.Tensor('float32', new Float32Array(5 * 16).fill(0.1), [1, 5, 16]),
    });
    expect(out.block.dims).toEqual([1, 16, 16]);
    expect(out.cross.dims).toEqual([1, 5, 16]);
    expect(Array.from(out.cross.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('SeededRandom is reproducible and roughly normal', () => {
    const a = new SeededRandom(42).normal(10000, 2);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(new SeededRandom(42).normal(10000, 2).buffer))).toBe(0);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(std).toBeGreaterThan(1.9);
    expect(std).toBeLessThan(2.1);
  });

  it('toFloat16Bits rounds like IEEE half precision', () => {
    expect(Array.from(toFloat16Bits(new Float32Array([0, 1, -2, 65504, 1e6, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11])))).toEqual([
      0x0000, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x3c00, 0x3c02,
    ]);
  });
});

/** erf by its Taylor series: exact enough (1e-7) for the small arguments used here. */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
