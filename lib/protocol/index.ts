/**
 * lib/protocol: the Open Inference Protocol (KServe v2, as Triton speaks it) on the wire: datatypes,
 * tensor data in JSON, raw and typed-contents form, REST bodies with the binary tensor data
 * extension, the gRPC service from the vendored grpc_predict_v2.proto. Pure data handling, shared by
 * the server (lib/serve) and the load generator (lib/bench/load); imports only core.
 */
export { datatypes, datatypeOf, dtypeOf, type Datatype } from './datatypes.js';
export { DEFAULT_JSON_LIMITS, checkJsonLimits, type JsonLimits } from './json-limits.js';
export { parseInferBody, parseJsonBytes, type BodyLimits } from './body.js';
export {
  decodeJsonInferRequest,
  attachBinaryData,
  type InferInput,
  type InferRequest,
  type InferRequestedOutput,
} from './request.js';
export {
  encodeRestResponse,
  decodeRestInferResponse,
  type InferOutput,
  type InferResponse,
  type DecodedOutput,
} from './response.js';
export { loadPredictService, type PredictService } from './grpc.js';
export { decodeGrpcInferRequest, encodeGrpcInferResponse } from './grpc-messages.js';
export {
  valuesToTypedArray,
  rawToTypedArray,
  typedArrayBytes,
  typedArrayToValues,
  typedArrayToJsonText,
  checkShape,
} from './tensor-data.js';
