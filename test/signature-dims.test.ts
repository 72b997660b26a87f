/**
 * How `models info` and contract messages show a graph's symbolic dimensions: names a
 * person gave (`num_points`, `batch`) as they are, names PyTorch's exporter made up
 * (`Addimage_embeddings_dim_0`) as `?`.
 */
import { describe, expect, it } from 'vitest';
import { formatDims, isExporterDimName } from '../src/inference/signature.js';

// Every symbolic dimension name onnxruntime reports for the graphs rebuilt by
// ../shared/conformance (its real-graph-metadata.json: EfficientSAM-Ti/S, MobileSAM, SAM
// ViT-B) and in the SAM 2.1 exports' signatures (osam, samexporter).
const EXPORTER_MADE = [
  'Addimage_embeddings_dim_0', 'Addimage_embeddings_dim_2', 'Addimage_embeddings_dim_3', 'Gemmiou_predictions_dim_0',
  'Reshapelow_res_masks_dim_0', 'Reshapelow_res_masks_dim_3', 'Reshapeoutput_masks_dim_2', 'Reshapeoutput_masks_dim_4',
  'Resizemasks_dim_0', 'Resizemasks_dim_3', 'Sliceonnx::Shape_1830_dim_0', 'Sliceonnx::Shape_1830_dim_3',
  'Unsqueezeiou_predictions_dim_0', 'Unsqueezelow_res_masks_dim_2', 'Cliplow_res_masks_dim_1', 'Sigmoidiou_predictions_dim_0',
];
const NAMED = ['batch', 'height', 'width', 'image_height', 'image_width', 'num_points', 'H', 'W', 'N', 'num_masks'];

describe('symbolic dimension names', () => {
  it('tells the exporter-made names of the real graphs from the ones people gave', () => {
    expect(EXPORTER_MADE.filter((name) => !isExporterDimName(name))).toEqual([]);
    expect(NAMED.filter((name) => isExporterDimName(name))).toEqual([]);
  });

  it('shows exporter-made names and unfixed contract dims as ?, the rest as they are', () => {
    expect(formatDims(['Addimage_embeddings_dim_0', 256, 'Addimage_embeddings_dim_2', 'Addimage_embeddings_dim_3'])).toBe('[?, 256, ?, ?]');
    expect(formatDims([1, 1, 'num_points', 2])).toBe('[1, 1, num_points, 2]');
    expect(formatDims([1, null, 'H', 'W'])).toBe('[1, ?, H, W]');
  });
});
