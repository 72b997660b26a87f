/**
 * The one number of FastSAM's output layout that mask code needs, kept apart from the
 * model adapter (fastsam.ts) so that code without a session, such as the render workers,
 * does not load onnxruntime.
 */

/** Mask prototypes (and coefficients per detection) of every YOLOv8-seg model. */
export const PROTO_CHANNELS = 32;
