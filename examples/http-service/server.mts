/**
 * A model behind the Open Inference Protocol (KServe v2 REST, and gRPC if GRPC_PORT is set), in a
 * program of your own: tensorrt-node's InferenceServer, the one `tensorrt-node serve` runs, on one
 * model file. Dynamic batching, Prometheus metrics at /metrics, request limits and graceful drain
 * come with it. See README.md next to this file.
 *
 *   npm install tensorrt-node onnxruntime-node
 *   MODEL_PATH=model.onnx node server.mts          (Node 22.18+ runs .mts as is; else npx tsx server.mts)
 */
import { InferenceServer } from 'tensorrt-node/serve';

const backend = (process.env.BACKEND ?? 'auto') as 'auto' | 'tensorrt' | 'cpu';
const server = await InferenceServer.start({
  models: [{ name: process.env.MODEL_NAME ?? 'model', path: process.env.MODEL_PATH ?? 'model.onnx', config: { backend } }],
  // 127.0.0.1 by default: set HOST=0.0.0.0 in a container so that other hosts reach it.
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
  grpcPort: process.env.GRPC_PORT ? Number(process.env.GRPC_PORT) : null,
  ...(process.env.API_KEY ? { apiKey: process.env.API_KEY } : {}),
});
console.log(`serving at ${server.urls.http}`);

// SIGTERM (Kubernetes) or Ctrl-C: report not ready, refuse new connections, answer every request
// already accepted, release the model, exit 0.
await server.closeOnSignals();
