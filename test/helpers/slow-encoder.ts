/**
 * A deliberately slow SAM-family encoder (MobileSAM contract: `input_image` [H, W, 3] ->
 * `image_embeddings` [1, 256, 64, 64]) for tests that need a run long enough to watch the
 * event loop or interrupt it: a chain of `matmuls` 1024x1024 matrix products (about 2
 * GFLOP each, some tens of ms on two cores). The chain depends on the input, so
 * onnxruntime cannot fold it away at load time.
 */
import { GraphBuilder } from '../../scripts/onnx/builder.js';

export function buildSlowSamEncoder(matmuls: number, side = 1024): Uint8Array {
  const g = new GraphBuilder({ name: 'slow_sam_encoder' });
  const x = g.input('input_image', 'float32', ['H', 'W', 3]);
  const mean = g.op('ReduceMean', [x], { keepdims: 0 });
  // Entries 1/side keep every product's entries at 1/side: no overflow however long the chain.
  const a = g.add(g.fill([side, side], 1 / side), g.mul(mean, g.scalar(1e-12)));
  let y = a;
  for (let i = 0; i < matmuls; i++) y = g.matmul(y, a);
  const level = g.op('ReduceMean', [y], { keepdims: 0 });
  g.output(g.add(g.fill([1, 256, 64, 64], 0), level), 'image_embeddings', 'float32', [1, 256, 64, 64]);
  return g.toBytes({ producerName: 'samlite tests', docString: `slow encoder: ${matmuls} matrix products of side ${side}` });
}

/**
 * An encoder of the same contract whose run never ends: a Loop of 1024x1024 matrix products
 * with a trip count of 2^62 (no machine finishes it). For tests of what must not wait for a
 * run, so that a run finishing first, on however fast or loaded a machine, cannot make
 * them pass or fail.
 */
export function buildEndlessSamEncoder(side = 1024): Uint8Array {
  const g = new GraphBuilder({ name: 'endless_sam_encoder' });
  const x = g.input('input_image', 'float32', ['H', 'W', 3]);
  const mean = g.op('ReduceMean', [x], { keepdims: 0 });
  // Depends on the input, so onnxruntime cannot run the loop at load time.
  const a = g.add(g.fill([side, side], 1 / side), g.mul(mean, g.scalar(1e-12)));
  const body = g.subgraph('body');
  body.input('i', 'int64', []);
  const cond = body.input('cond', 'bool', []);
  const y = body.input('y', 'float32', [side, side]);
  body.output(body.op('Identity', [cond]), 'cond_out', 'bool', []);
  body.output(body.matmul(y, a), 'y_out', 'float32', [side, side]);
  const [last] = g.op('Loop', [g.scalarI64(2 ** 62), g.constant('bool', [], [1]), a], { body }, 1);
  const level = g.op('ReduceMean', [last], { keepdims: 0 });
  g.output(g.add(g.fill([1, 256, 64, 64], 0), level), 'image_embeddings', 'float32', [1, 256, 64, 64]);
  return g.toBytes({ producerName: 'samlite tests', docString: `endless encoder: a Loop of 2^62 matrix products of side ${side}` });
}
