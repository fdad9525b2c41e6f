/**
 * A REST inference body, whole: JSON alone, or (binary tensor data extension) a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the inputs' raw bytes. Bounded before it is
 * parsed (./json-limits.ts), then decoded (./request.ts). Pure and synchronous, so it runs the same
 * on the event loop (small bodies) and in the server's parser worker (large ones).
 */
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import { checkJsonLimits, type JsonLimits } from './json-limits.js';
import { attachBinaryData, decodeJsonInferRequest, type InferRequest } from './request.js';

export interface BodyLimits extends JsonLimits {
  /** Most elements one tensor may have. */
  maxTensorElements: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON bytes as a value: bounded first, then parsed; errors are 400s naming what is wrong. */
export function parseJsonBytes(bytes: Uint8Array, limits: JsonLimits, name: string): unknown {
  checkJsonLimits(bytes, limits, name);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ArgumentTypeError(`Expected UTF-8 JSON for ${name} but received bytes that are not UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArgumentTypeError(`Expected valid JSON for ${name} but received invalid JSON (${(error as Error).message})`);
  }
}

/** Parses and decodes an inference body; `headerLength` is Inference-Header-Content-Length, or null for a JSON body. */
export function parseInferBody(body: Uint8Array, headerLength: number | null, limits: BodyLimits): InferRequest {
  if (headerLength === null)
    return decodeJsonInferRequest(parseJsonBytes(body, limits, 'the request body'), {
      maxElements: limits.maxTensorElements,
      binary: false,
    });
  if (headerLength > body.byteLength)
    throw new ArgumentRangeError(
      `Expected an Inference-Header-Content-Length of at most the body's ${body.byteLength} bytes but received ${headerLength}`,
    );
  const header = parseJsonBytes(body.subarray(0, headerLength), limits, 'the JSON header of the request body');
  const request = decodeJsonInferRequest(header, { maxElements: limits.maxTensorElements, binary: true });
  attachBinaryData(request, body.subarray(headerLength));
  return request;
}
