/** A model repository of fixture models, and small REST/gRPC clients, for the serve tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Grpc from '@grpc/grpc-js';
import { serializeModel } from '../../lib/onnx/model.js';
import { loadPredictService } from '../../lib/protocol/grpc.js';
import { chainModel, convNetModel, mlpModel, temporaryFolder } from './onnx-fixtures.js';

/**
 * mlp (x [N,16] -> y [N,8], batched), conv (x [1,3,16,16] -> y [1,10], y2 [1,4,16,16]: static, so
 * unbatched; served as version 2), slow (chain: a run time that grows with N, a queue of 2).
 */
export function fixtureRepository(configs: Record<string, string> = {}): string {
  const root = temporaryFolder('trtnode-serve-');
  const models: [string, number, Uint8Array][] = [
    ['mlp', 1, serializeModel(mlpModel())],
    ['conv', 2, serializeModel(convNetModel())],
    ['slow', 1, serializeModel(chainModel())],
  ];
  for (const [name, version, bytes] of models) {
    mkdirSync(join(root, name, String(version)), { recursive: true });
    writeFileSync(join(root, name, String(version), 'model.onnx'), bytes);
  }
  const defaults: Record<string, string> = {
    mlp: 'batcher:\n  maxBatchSize: 8\ncpu:\n  intraOpNumThreads: 1\n',
    conv: '{"cpu": {"intraOpNumThreads": 1}}',
    slow: '{"maxQueue": 2, "batcher": false, "cpu": {"intraOpNumThreads": 1}}',
  };
  for (const [name, text] of Object.entries({ ...defaults, ...configs }))
    writeFileSync(join(root, name, text.trimStart().startsWith('{') ? 'config.json' : 'config.yaml'), text);
  return root;
}

export interface GrpcTestClient {
  call<T = Record<string, unknown>>(method: string, request: unknown, metadata?: Record<string, string>): Promise<T>;
  close(): void;
}

export async function grpcClient(address: string): Promise<GrpcTestClient> {
  const { grpc, Client } = await loadPredictService();
  const client = new Client(address, grpc.credentials.createInsecure()) as Grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  return {
    call: (method, request, headers = {}) =>
      new Promise((resolve, reject) => {
        const metadata = new grpc.Metadata();
        for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
        client[method]!(request, metadata, (error: Grpc.ServiceError | null, response: never) =>
          error ? reject(error) : resolve(response),
        );
      }),
    close: () => client.close(),
  };
}

/** Little-endian bytes of a TypedArray, as raw tensor contents. */
export const rawBytes = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
