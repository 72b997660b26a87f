/**
 * The input/output signature of an ONNX file as onnxruntime sees it: names, element types
 * and shapes. Used by `samlite models info` and by the families' load-time contract checks.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { ModelContractError } from '../util/errors.js';
import { ortLogLevel, ortLogSeverity } from '../inference/ort-log.js';

/** One input or output of a graph. */
export interface TensorSignature {
  readonly name: string;
  /** onnxruntime's element type (`float32`, `int64`, …), or `non-tensor` for sequences and maps. */
  readonly type: string;
  /** Fixed sizes as numbers, symbolic dimensions as their names; empty when unknown. */
  readonly dims: readonly (number | string)[];
}

/** Every input and output of an ONNX graph, in graph order. */
export interface OnnxSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

/** The signature of one input or output from onnxruntime's metadata. */
export function describeValue(meta: InferenceSession.ValueMetadata): TensorSignature {
  if (!meta.isTensor) return { name: meta.name, type: 'non-tensor', dims: [] };
  return { name: meta.name, type: meta.type, dims: [...meta.shape] };
}

/**
 * Open `path` with onnxruntime and read its signature, then release the session. A file
 * onnxruntime cannot load is a ModelContractError naming the file.
 */
export async function describeOnnxFile(path: string): Promise<OnnxSignature> {
  // Imported on demand: loading the native runtime costs every CLI start, and most
  // commands that reach this module (models list, path) never open a model.
  const ort = await import('onnxruntime-node');
  const logLevel = ortLogLevel();
  ort.env.logLevel = logLevel;
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', logSeverityLevel: ortLogSeverity(logLevel) });
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
    throw new ModelContractError(`${path} is not a loadable ONNX model: ${reason}`, { cause: err });
  }
  try {
    return { inputs: session.inputMetadata.map(describeValue), outputs: session.outputMetadata.map(describeValue) };
  } finally {
    await session.release();
  }
}

/**
 * True for a symbolic dimension named by PyTorch's ONNX exporter rather than by a person:
 * `<op type><output name>_dim_<axis>` (`Addimage_embeddings_dim_0`,
 * `Sliceonnx::Shape_1830_dim_2`), as in the published EfficientSAM and MobileSAM files.
 * Such a name says only that the size is not fixed.
 */
export function isExporterDimName(name: string): boolean {
  return /^[A-Z][A-Za-z]*.+_dim_\d+$/.test(name);
}

/**
 * Render dims as `[1, 3, H, W]` for messages and `models info`: a named dimension by its
 * name, an unfixed contract dimension (null) and an exporter-made name (see
 * {@link isExporterDimName}) as `?`.
 */
export function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null || (typeof d === 'string' && isExporterDimName(d)) ? '?' : String(d))).join(', ')}]`;
}
