/**
 * The protocol's gRPC service (`inference.GRPCInferenceService`), from the official
 * grpc_predict_v2.proto vendored with its licence under vendor/kserve/ (Triton serves the same
 * package and service names, so a client of it talks to Triton too). Loaded on first use:
 * @grpc/grpc-js and the proto parser cost nothing to processes that never speak gRPC.
 */
import { fileURLToPath } from 'node:url';
import type * as GrpcModule from '@grpc/grpc-js';

/** vendor/ sits at the package root: two levels above lib/protocol/ and above dist/protocol/ alike. */
const PREDICT_PROTO_PATH = fileURLToPath(new URL('../../vendor/kserve/grpc_predict_v2.proto', import.meta.url));

export interface PredictService {
  grpc: typeof GrpcModule;
  /** For grpc.Server#addService. */
  service: GrpcModule.ServiceDefinition;
  /** For clients: new Client(address, credentials). */
  Client: GrpcModule.ServiceClientConstructor;
}

let loading: Promise<PredictService> | undefined;

export function loadPredictService(): Promise<PredictService> {
  loading ??= (async () => {
    const grpc = await import('@grpc/grpc-js');
    const protoLoader = await import('@grpc/proto-loader');
    // int64 fields (shapes, int64 contents) as decimal strings: exact beyond 2^53, converted where read.
    const definition = await protoLoader.load(PREDICT_PROTO_PATH, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const inference = grpc.loadPackageDefinition(definition).inference as GrpcModule.GrpcObject;
    const Client = inference.GRPCInferenceService as GrpcModule.ServiceClientConstructor;
    return { grpc, service: Client.service, Client };
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** The messages as @grpc/proto-loader hands them over (keepCase, longs as strings, defaults filled in). */
export interface InferParameter {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface GrpcInferInputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: Record<string, InferParameter>;
  contents: InferTensorContents | null;
}

export interface GrpcModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: GrpcInferInputTensor[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

export interface GrpcInferOutputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters?: Record<string, InferParameter>;
  contents?: Partial<InferTensorContents> | null;
}

export interface GrpcModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  outputs: GrpcInferOutputTensor[];
  raw_output_contents: Uint8Array[];
}
