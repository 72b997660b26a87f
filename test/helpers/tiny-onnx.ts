/**
 * Builds tiny valid ONNX files (one Identity node per output) so tests can exercise
 * onnxruntime metadata reading without the real model weights, which cannot be downloaded
 * here. Encoded by hand with protobufjs' Writer; field numbers are from onnx.proto.
 */
import protobuf from 'protobufjs';

/** Element types by ONNX enum value (TensorProto.DataType). */
const ELEM = { float32: 1, int64: 7 } as const;

export interface TinyTensor {
  name: string;
  type: keyof typeof ELEM;
  dims: (number | string)[];
}

function valueInfo(w: protobuf.Writer, field: number, tensor: TinyTensor): void {
  const shape = protobuf.Writer.create();
  for (const dim of tensor.dims) {
    const d = protobuf.Writer.create();
    if (typeof dim === 'number') d.uint32((1 << 3) | 0).int64(dim);
    else d.uint32((2 << 3) | 2).string(dim);
    shape.uint32((1 << 3) | 2).bytes(d.finish());
  }
  const tensorType = protobuf.Writer.create().uint32((1 << 3) | 0).int32(ELEM[tensor.type]).uint32((2 << 3) | 2).bytes(shape.finish());
  const type = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(tensorType.finish());
  const info = protobuf.Writer.create().uint32((1 << 3) | 2).string(tensor.name).uint32((2 << 3) | 2).bytes(type.finish());
  w.uint32((field << 3) | 2).bytes(info.finish());
}

/**
 * A model whose i-th output is Identity(i-th input): inputs and outputs pair up, so give
 * the same number of each with matching types.
 */
export function tinyOnnx(inputs: TinyTensor[], outputs: TinyTensor[]): Uint8Array {
  const graph = protobuf.Writer.create();
  outputs.forEach((output, index) => {
    const node = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string(inputs[index]!.name)
      .uint32((2 << 3) | 2)
      .string(output.name)
      .uint32((3 << 3) | 2)
      .string(`identity_${index}`)
      .uint32((4 << 3) | 2)
      .string('Identity');
    graph.uint32((1 << 3) | 2).bytes(node.finish());
  });
  graph.uint32((2 << 3) | 2).string('tiny');
  for (const input of inputs) valueInfo(graph, 11, input);
  for (const output of outputs) valueInfo(graph, 12, output);
  const opset = protobuf.Writer.create().uint32((1 << 3) | 2).string('').uint32((2 << 3) | 0).int64(13);
  return protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .int64(8) // ir_version
    .uint32((2 << 3) | 2)
    .string('samlite-tests')
    .uint32((7 << 3) | 2)
    .bytes(graph.finish())
    .uint32((8 << 3) | 2)
    .bytes(opset.finish())
    .finish();
}

/** A stand-in SAM-family encoder signature. */
export function tinyEncoder(): Uint8Array {
  return tinyOnnx([{ name: 'input_image', type: 'float32', dims: ['H', 'W', 3] }], [{ name: 'image_embeddings', type: 'float32', dims: ['H', 'W', 3] }]);
}

/** A stand-in decoder with an int64 input, to see dtypes come through. */
export function tinyDecoder(): Uint8Array {
  return tinyOnnx(
    [
      { name: 'point_coords', type: 'float32', dims: [1, 'N', 2] },
      { name: 'orig_im_size', type: 'int64', dims: [2] },
    ],
    [
      { name: 'masks', type: 'float32', dims: [1, 'N', 2] },
      { name: 'size_out', type: 'int64', dims: [2] },
    ],
  );
}
