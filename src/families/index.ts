import { openAdapter, type FamilyRules } from './adapter.js';
import { EFFICIENTSAM_RULES } from './efficientsam.js';
import type { ModelFiles, OpenOptions } from './open-sessions.js';
import { SAM_RULES } from './sam.js';
import { SAM2_RULES } from './sam2.js';
import type { FamilyAdapter, PromptFamilyName } from './types.js';

/** Each family's rules: adding a family is one entry here plus its rules module. */
export const FAMILY_RULES: Readonly<Record<PromptFamilyName, FamilyRules>> = {
  efficientsam: EFFICIENTSAM_RULES,
  sam: SAM_RULES,
  sam2: SAM2_RULES,
};

/**
 * Open a prompt-family model's encoder and decoder as the adapter of its family, checking both files
 * against the family contract first.
 */
export function openFamilyAdapter(model: ModelFiles & { readonly family: PromptFamilyName }, options?: OpenOptions): Promise<FamilyAdapter> {
  return openAdapter(model, FAMILY_RULES[model.family], options);
}

export { FAMILY_CONTRACTS, SAM2_SAMEXPORTER_CONTRACT, resizeLongestSide } from './contracts.js';
export type { FamilyContract, TensorSpec, EncoderInputLayout } from './contracts.js';
export type { FamilyRules } from './adapter.js';
export type { ModelFiles, OpenOptions } from './open-sessions.js';
export type { TensorSignature, RunObserver, SessionOptions } from './session.js';
