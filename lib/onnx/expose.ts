/**
 * Makes intermediate tensors of the main graph observable: a copy of the model that also outputs
 * them, so that one run on the cpu backend yields the activations calibration needs.
 */
import { ErrorCode, OnnxError } from '../core/errors.js';
import { makeValueInfo } from './graph.js';
import { cloneModel, type OnnxModel } from './model.js';
import { DataType } from './proto.js';
import { inferElemTypes } from './types.js';

/** A copy of `model` whose graph also outputs `names` (tensors of the main graph; each must be float32). */
export function exposeTensors(model: OnnxModel, names: readonly string[]): OnnxModel {
  const result = cloneModel(model);
  const graph = result.proto.graph!;
  const types = inferElemTypes(graph);
  const existing = new Set(graph.output.map((output) => output.name));
  // Stale value_info shapes could contradict what the runtime computes; outputs only need the type.
  for (const name of names) {
    if (existing.has(name)) continue;
    const type = types.get(name);
    if (type === undefined)
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected a tensor of the main graph for ${JSON.stringify(name)} but received a name the graph does not define`,
      );
    graph.output.push(makeValueInfo(name, type === DataType.UNDEFINED ? DataType.FLOAT : type));
    existing.add(name);
  }
  return result;
}
