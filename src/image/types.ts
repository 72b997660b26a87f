/**
 * A decoded image as the pipeline sees it: 8-bit sRGB, 3 channels interleaved (RGBRGB...),
 * row-major, already in display orientation (EXIF rotation applied) with alpha flattened.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes. */
  readonly data: Uint8Array;
}

/** An image with where it came from; `source` is the path (or label) used in messages and outputs. */
export interface LoadedImage extends RgbImage {
  readonly source: string;
}

/**
 * Interleaved pixels with an explicit channel count: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
 * (alpha not premultiplied). Used for encoding masks, overlays and label maps.
 */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  /**
   * width * height * channels samples: 8-bit, or 16-bit for one-channel images (label maps
   * with more than 255 labels).
   */
  readonly data: Uint8Array | Uint16Array;
}
