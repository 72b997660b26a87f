/** The FastSAM family's public pieces (see docs/fastsam.md). */
export { FASTSAM_CONTRACTS, FASTSAM_QUALCOMM_CONTRACT, FASTSAM_ULTRALYTICS_CONTRACT, PROTO_CHANNELS, openFastSamModel } from '../families/fastsam.js';
export type { FastSamContract, FastSamExport, FastSamModel, RawDetections } from '../families/fastsam.js';
export { FASTSAM_DEFAULTS, DEFAULT_IMGSZ, MAX_NMS, resolveFastSamSettings, type FastSamSettings, type FastSamSettingsInput } from './settings.js';
export { FASTSAM_EVERYTHING_OPTIONS, type FastSamEverythingResult, type FastSamStats, type FastSamCounts, type FastSamTimings } from './everything.js';
export { CROP_ROUNDS_BELOW } from './masks.js';
export { LETTERBOX_STRIDE } from './letterbox.js';
