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
