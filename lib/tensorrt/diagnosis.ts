/**
 * Turns TensorRT's cryptic deserialization failures into what happened, what the engine needs,
 * what this host has, and the command that fixes it. TensorRT words these as "expecting <this
 * host's> got <the engine's>" (e.g. "expecting compute 8.9 got compute 8.6" on an RTX 4090).
 */
import { expectOptions, invalidType, rejectUnknownOptions } from '../core/validate.js';

/**
 * Why an engine cannot be loaded here: built with another TensorRT version, for another GPU
 * architecture, with host code that was not allowed, or not an engine at all.
 * @inline
 */
export type IncompatibilityKind = 'tensorrt-version' | 'gpu-architecture' | 'host-code' | 'not-an-engine';

/**
 * What an ERR_ENGINE_INCOMPATIBLE error's `details` say: what the engine needs, what this host has,
 * and the fix (usually: rebuild the engine here from its ONNX model).
 */
export interface EngineIncompatibility {
  kind: IncompatibilityKind;
  /** What the engine needs (TensorRT version or compute capability), when TensorRT said. */
  engine: string | null;
  /** What this host has. */
  host: string | null;
  /** One sentence a user can act on. */
  fix: string;
}

/** What an engine must match on the host it is loaded on: the TensorRT version and the GPU's compute capability. */
export interface EngineHost {
  tensorrtVersion: string | null;
  computeCapability: string | null;
}

const rebuild =
  'Rebuild the engine on this host from its ONNX model: `npx tensorrt-node build <model.onnx> -o <engine.plan>` (or let InferenceSession build and cache it from the .onnx).';

export function diagnoseEngineLoadFailure(messages: readonly string[], engineHost: EngineHost): EngineIncompatibility | null {
  if (!Array.isArray(messages) || messages.some((message) => typeof message !== 'string'))
    throw invalidType('an array of strings', 'messages', messages);
  const facts = expectOptions<EngineHost>(engineHost, 'host');
  rejectUnknownOptions(facts, ['tensorrtVersion', 'computeCapability'], 'host');
  for (const key of ['tensorrtVersion', 'computeCapability'] as const) {
    if (facts[key] !== undefined && facts[key] !== null && typeof facts[key] !== 'string')
      throw invalidType('a string or null', `host.${key}`, facts[key]);
  }
  const host: EngineHost = { tensorrtVersion: facts.tensorrtVersion ?? null, computeCapability: facts.computeCapability ?? null };
  const text = messages.join('\n');

  const library = /not compatible with this version of TensorRT, expecting library version ([\d.]*\d) got ([\d.]*\d)?/.exec(text);
  if (library) {
    const engineVersion = library[2] || null;
    return {
      kind: 'tensorrt-version',
      engine: engineVersion,
      host: library[1] || host.tensorrtVersion,
      fix: `The engine was built with TensorRT ${engineVersion ?? 'of another version'} but this host runs TensorRT ${library[1] || host.tensorrtVersion}. ${rebuild} Engines are tied to one TensorRT version unless built version-compatible.`,
    };
  }
  const serialization = /Version tag does not match\. Note: Current Version: (\d+), Serialized Engine Version: (\d+)/.exec(text);
  if (serialization) {
    return {
      kind: 'tensorrt-version',
      engine: `serialization version ${serialization[2]}`,
      host: `serialization version ${serialization[1]}${host.tensorrtVersion ? ` (TensorRT ${host.tensorrtVersion})` : ''}`,
      fix: `The engine was serialized by another TensorRT release than this host's${host.tensorrtVersion ? ` ${host.tensorrtVersion}` : ''}. ${rebuild}`,
    };
  }
  const device = /generated on an incompatible device, expecting compute ([\d.]+) got compute ([\d.]+)/.exec(text);
  if (device) {
    return {
      kind: 'gpu-architecture',
      engine: device[2]!,
      host: device[1]!,
      fix: `The engine was built for GPUs of compute capability ${device[2]} but this GPU is ${device[1]}. ${rebuild} Engines are tied to one GPU architecture unless built hardware-compatible.`,
    };
  }
  if (/host code/i.test(text) || /lean runtime/i.test(text)) {
    return {
      kind: 'host-code',
      engine: 'embedded host code',
      host: 'host code not allowed',
      fix: 'The engine embeds host code (a lean runtime or plugins), which runs arbitrary code from the file. Load it with { allowHostCode: true } only if you trust where the file came from.',
    };
  }
  if (/magicTag|kPLAN_MAGIC_TAG|Serialization assertion/.test(text)) {
    return {
      kind: 'not-an-engine',
      engine: null,
      host: host.tensorrtVersion,
      fix: 'The file is not a TensorRT engine, or it is truncated or corrupt. Rebuild it, and check it was copied whole.',
    };
  }
  return null;
}
