/**
 * Every table of the bad-input matrix. A new public surface adds its file here; the surfaces still
 * being built elsewhere plug in the same way:
 *   - InferenceSession, the batcher, the HTTP example and `batch` CLI (issue 7): ./session.ts;
 *   - TensorRT execution contexts and bindings (issue 4): ./context.ts, with GPU-only rows using
 *     `skip: gpuMissing` so they run on GPU hosts.
 */
import type { MatrixTable } from '../matrix.js';
import { cacheTable } from './cache.js';
import { cliTable } from './cli.js';
import { dtypeTable, helpersTable } from './core.js';
import { cpuBackendTable } from './cpu-backend.js';
import { buildTable, engineTable } from './engine.js';
import { filesTable } from './files.js';
import { onnxTable, transformTable } from './onnx.js';
import { sessionTable } from './session.js';
import { cudaObjectsTable, cudaTable, tensorOperationsTable, tensorTable } from './tensor.js';

export const tables: MatrixTable[] = [
  dtypeTable,
  helpersTable,
  tensorTable,
  tensorOperationsTable,
  cudaTable,
  cudaObjectsTable,
  engineTable,
  buildTable,
  onnxTable,
  transformTable,
  cpuBackendTable,
  sessionTable,
  cacheTable,
  cliTable,
  filesTable,
];
