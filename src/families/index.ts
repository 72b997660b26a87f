import { openEfficientSamAdapter } from './efficientsam.js';
import type { ModelFiles, OpenOptions } from './open-sessions.js';
import { openSamAdapter } from './sam.js';
import type { FamilyAdapter, FamilyName } from './types.js';

/** One opener per family: adding a family is one entry here plus its adapter module. */
const OPENERS: Readonly<Record<FamilyName, (model: ModelFiles, options?: OpenOptions) => Promise<FamilyAdapter>>> = {
  efficientsam: openEfficientSamAdapter,
  sam: openSamAdapter,
};

/**
 * Open a model's encoder and decoder as the adapter of its family, checking both files
 * against the family contract first.
 */
export function openFamilyAdapter(model: ModelFiles & { readonly family: FamilyName }, options?: OpenOptions): Promise<FamilyAdapter> {
  return OPENERS[model.family](model, options);
}

export { FAMILY_CONTRACTS, resizeLongestSide } from './contracts.js';
export type { FamilyContract, TensorSpec, EncoderInputLayout } from './contracts.js';
export type { ModelFiles, OpenOptions } from './open-sessions.js';
export type { TensorSignature, RunObserver, SessionOptions } from './session.js';
