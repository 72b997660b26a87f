import { ModelContractError } from '../util/errors.js';
import { createSessionHost } from '../inference/host.js';
import type { EncoderContract, FamilyContract } from './contracts.js';
import { ModelSession, formatDims, tensorMismatch, type RunObserver, type SessionOptions } from './session.js';

/** Where a model's two files are. */
export interface ModelFiles {
  readonly name: string;
  readonly files: { readonly encoder: string; readonly decoder: string };
}

/** Options for opening a model. */
export interface OpenOptions extends SessionOptions {
  /** Sees every run's feeds and outputs (debugging, spy tests). */
  readonly observer?: RunObserver;
}

/**
 * Decoder output names by role, resolved against the file. `masks` is absent for a decoder
 * that returns only low-resolution logits; `lowRes` for one whose contract does not read them.
 */
export interface DecoderOutputNames {
  readonly masks?: string;
  readonly iou: string;
  readonly lowRes?: string;
}

/** An encoder session whose signature matched one of the family's encoder variants. */
export interface CheckedEncoder {
  readonly session: ModelSession;
  readonly contract: EncoderContract;
}

/** A decoder session whose signature matched the family contract. */
export interface CheckedDecoder {
  readonly session: ModelSession;
  /** The family's contract the file follows (SAM 2 has two exports); the encoder must follow it too. */
  readonly contract: FamilyContract;
  readonly outputs: DecoderOutputNames;
  /** Masks per run when the file's `iou_predictions` fixes it; otherwise checked on every run. */
  readonly maskCount: number | undefined;
}

/**
 * A model's two sessions, each opened on first use and checked against the family contract
 * as it loads. Lazy because a prompt on an image whose embedding is cached never needs the
 * encoder, and loading it costs more than the decoder run.
 */
export interface ModelSessions {
  encoder(): Promise<CheckedEncoder>;
  decoder(): Promise<CheckedDecoder>;
  /** Release whatever was opened. */
  release(): Promise<void>;
}

/**
 * Lazily opened, contract-checked sessions for `model` under one of `contracts` (a family's
 * exports, the main one first): the decoder's inputs pick it, and the encoder is checked
 * against the same one, so opening the encoder opens the decoder first.
 */
export function modelSessions(model: ModelFiles, contracts: FamilyContract | readonly FamilyContract[], options: OpenOptions = {}): ModelSessions {
  const all: readonly FamilyContract[] = Array.isArray(contracts) ? contracts : [contracts as FamilyContract];
  let encoder: Promise<CheckedEncoder> | undefined;
  let decoder: Promise<CheckedDecoder> | undefined;
  // One host for both sessions: in worker mode, one worker thread per model.
  const host = createSessionHost(options, model.name);
  // Sessions open or opening. A failed open that leaves none closes the host, so a model
  // that fails its contract at load does not leave an idle worker thread behind.
  let live = 0;
  const open = async <T>(path: string, role: string, check: (s: ModelSession) => T): Promise<T> => {
    live++;
    try {
      const session = await ModelSession.open(path, role, options, options.observer, host);
      try {
        return check(session);
      } catch (err) {
        await session.release();
        throw err;
      }
    } catch (err) {
      if (--live === 0) await host.close();
      throw err;
    }
  };
  const openDecoder = () => (decoder ??= open(model.files.decoder, 'decoder', (s) => checkDecoder(s, all)));
  return {
    encoder: () =>
      (encoder ??= openDecoder().then((d) => open(model.files.encoder, 'encoder', (s) => ({ session: s, contract: checkEncoder(s, d.contract) })))),
    decoder: openDecoder,
    async release() {
      const opened = await Promise.allSettled([encoder, decoder].filter((p) => p !== undefined));
      try {
        await Promise.all(opened.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value.session.release()] : [])));
      } finally {
        await host.close();
      }
    },
  };
}

function fail(session: ModelSession, contract: FamilyContract, what: string): never {
  throw new ModelContractError(`${session.path}: ${session.role} does not follow the ${contract.family} contract: ${what}`);
}

/**
 * Match the encoder's single input against the family's encoder variants and check the
 * embedding output. Exported for `models info`-style inspection.
 */
export function checkEncoder(session: ModelSession, contract: FamilyContract): EncoderContract {
  if (session.inputs.length !== 1) {
    fail(session, contract, `it has ${session.inputs.length} inputs (${session.inputs.map((i) => i.name).join(', ')}), expected 1`);
  }
  const input = session.inputs[0];
  const variant = contract.encoders.find((e) => e.input.name === input.name);
  if (!variant) {
    const wanted = contract.encoders.map((e) => `${e.input.name} ${formatDims(e.input.dims)}`).join(' or ');
    fail(session, contract, `input is ${input.name}, expected ${wanted}`);
  }
  const inputProblem = tensorMismatch(variant.input, input);
  if (inputProblem) fail(session, contract, inputProblem);
  const output = session.outputs.find((o) => o.name === contract.encoderOutput.name);
  if (!output) fail(session, contract, `no output named ${contract.encoderOutput.name}`);
  const outputProblem = tensorMismatch(contract.encoderOutput, output);
  if (outputProblem) fail(session, contract, outputProblem);
  for (const spec of contract.encoderExtraOutputs ?? []) {
    const extra = session.outputs.find((o) => o.name === spec.name);
    if (!extra) fail(session, contract, `no output named ${spec.name} (its outputs: ${session.outputs.map((o) => o.name).join(', ')})`);
    const problem = tensorMismatch(spec, extra);
    if (problem) fail(session, contract, problem);
  }
  return variant;
}

/**
 * The contract among `contracts` that the decoder's inputs name: the one sharing the most
 * input names with the file, the first on a tie, so a file that fits none is reported
 * against the export it resembles most.
 */
function pickContract(session: ModelSession, contracts: readonly FamilyContract[]): FamilyContract {
  const names = new Set(session.inputs.map((i) => i.name));
  let best = contracts[0];
  let bestScore = -1;
  for (const c of contracts) {
    const found = c.decoderInputs.filter((spec) => names.has(spec.name)).length;
    const score = found - (c.decoderInputs.length - found);
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Check the decoder's inputs and outputs against the contract its inputs pick among
 * `contracts`, and resolve its output names by role.
 */
export function checkDecoder(session: ModelSession, contracts: FamilyContract | readonly FamilyContract[]): CheckedDecoder {
  const contract = pickContract(session, Array.isArray(contracts) ? contracts : [contracts as FamilyContract]);
  for (const spec of contract.decoderInputs) {
    const actual = session.inputs.find((i) => i.name === spec.name);
    if (!actual) fail(session, contract, `missing input ${spec.name} (its inputs: ${session.inputs.map((i) => i.name).join(', ')})`);
    const problem = tensorMismatch(spec, actual);
    if (problem) fail(session, contract, problem);
  }
  const known = new Set(contract.decoderInputs.map((s) => s.name));
  const extra = session.inputs.filter((i) => !known.has(i.name));
  if (extra.length > 0) fail(session, contract, `unexpected input ${extra.map((i) => i.name).join(', ')}`);

  const names: Partial<Record<keyof DecoderOutputNames, string>> = {};
  for (const spec of contract.decoderOutputs) {
    const actual = session.outputs.find((o) => o.name === spec.name);
    if (!actual) fail(session, contract, `missing output ${spec.name} (its outputs: ${session.outputs.map((o) => o.name).join(', ')})`);
    const problem = tensorMismatch(spec, actual);
    if (problem) fail(session, contract, `output ${problem}`);
    names[spec.role] = actual.name;
  }
  const outputs = names as DecoderOutputNames;
  const iouSig = session.outputs.find((o) => o.name === outputs.iou);
  // The last axis of iou_predictions counts the masks; a symbolic name there leaves the
  // count to be read from the runs.
  const k = iouSig?.dims[iouSig.dims.length - 1];
  const maskCount = typeof k === 'number' ? k : undefined;
  if (maskCount !== undefined && !contract.maskCounts.includes(maskCount)) {
    fail(session, contract, `it returns ${maskCount} masks per run, the contract allows ${contract.maskCounts.join(' or ')}`);
  }
  return { session, contract, outputs, maskCount };
}
