/**
 * The one handler behind REST and gRPC: health, server and model metadata, readiness, and
 * inference from a protocol-neutral InferRequest to an InferResponse. The transports only decode,
 * encode and map errors (./errors.ts); every rule about what a request may ask is here, once.
 */
import type { HostTensor } from '../core/dtypes.js';
import { packageVersion } from '../addon/loader.js';
import { datatypeOf } from '../protocol/datatypes.js';
import type { InferRequest } from '../protocol/request.js';
import type { InferOutput, InferResponse } from '../protocol/response.js';
import { ServeError, badRequest } from './errors.js';
import type { ModelRegistry, ServedModel } from './models.js';

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export const SERVER_NAME = 'tensorrt-node';
/** The protocol extensions served: Triton's names, so that its clients find them. */
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'model_repository'] as const;

export interface InferContext {
  signal?: AbortSignal;
  /** The transport's own deadline (a gRPC deadline), in ms from now. */
  deadlineMs?: number;
}

export class InferenceHandler {
  readonly #registry: ModelRegistry;
  #draining = false;

  constructor(registry: ModelRegistry) {
    this.#registry = registry;
  }

  /** From now on the server reports not ready (load balancers stop sending), and stays live. */
  startDraining(): void {
    this.#draining = true;
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return !this.#draining && this.#registry.allReady();
  }

  serverMetadata(): { name: string; version: string; extensions: string[] } {
    return { name: SERVER_NAME, version: packageVersion, extensions: [...SERVER_EXTENSIONS] };
  }

  /** Whether a known model (version) serves requests now; 404 (ServeError) for unknown ones. */
  modelReady(name: string, version: string | undefined): boolean {
    try {
      this.#registry.get(name, version);
    } catch (error) {
      if (error instanceof ServeError && error.status === 503) return false;
      throw error;
    }
    return !this.#draining;
  }

  modelMetadata(name: string, version: string | undefined): ModelMetadata {
    const model = this.#registry.get(name, version);
    const describe = (info: ServedModel['inputs'][number]): TensorMetadata => ({
      name: info.name,
      datatype: datatypeOf(info.dtype),
      shape: [...info.shape],
    });
    return {
      name,
      versions: this.#registry.versions(name),
      platform: model.platform,
      inputs: model.inputs.map(describe),
      outputs: model.outputs.map(describe),
    };
  }

  async infer(
    name: string,
    version: string | undefined,
    request: InferRequest,
    context: InferContext = {},
  ): Promise<InferResponse> {
    const model = this.#registry.get(name, version);
    const feeds: Record<string, HostTensor> = {};
    for (const [index, input] of request.inputs.entries()) {
      const info = model.inputs.find((candidate) => candidate.name === input.name);
      if (!info) {
        throw badRequest(
          `Expected one of the model's inputs (${model.inputs.map((candidate) => `"${candidate.name}"`).join(', ')}) for inputs[${index}].name but received "${input.name}"`,
        );
      }
      if (feeds[input.name] !== undefined)
        throw badRequest(`Expected each input once but received "${input.name}" again at inputs[${index}]`);
      const expected = datatypeOf(info.dtype);
      if (input.datatype !== expected)
        throw badRequest(
          `Expected datatype ${expected} (model input "${info.name}") for inputs[${index}].datatype but received "${input.datatype}"`,
        );
      feeds[input.name] = { dtype: info.dtype, shape: input.shape, data: input.data! } as HostTensor;
    }
    const requested = request.outputs?.map((output) => output.name);
    const timeouts = [request.timeoutMs, context.deadlineMs].filter((value): value is number => value !== undefined);
    const results = await model.run(feeds, {
      ...(context.signal ? { signal: context.signal } : {}),
      ...(timeouts.length > 0 ? { timeoutMs: Math.max(0, Math.min(...timeouts)) } : {}),
      ...(requested ? { outputs: requested } : {}),
    });
    const binaryFor = (outputName: string) =>
      request.outputs?.find((output) => output.name === outputName)?.binaryData ?? request.binaryDataOutput;
    const outputs: InferOutput[] = (requested ?? model.outputs.map((info) => info.name)).map((outputName) => {
      const tensor = (results as Record<string, HostTensor>)[outputName]!;
      return { name: outputName, dtype: tensor.dtype, shape: tensor.shape, data: tensor.data, binary: binaryFor(outputName) };
    });
    return { modelName: name, modelVersion: model.version, id: request.id, outputs };
  }
}
