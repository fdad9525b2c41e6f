/**
 * Every fuzzed property. Sessions (issue 7) and execution contexts (issue 4) add theirs here: feeds
 * and run options of InferenceSession.run(), batcher limits, binding shapes against profiles.
 */
import type { FuzzProperty } from '../harness.js';
import { cliProperties } from './cli.js';
import { coreProperties } from './core.js';
import { filesProperties } from './files.js';
import { nativeProperties } from './native.js';
import { onnxProperties } from './onnx.js';

export const properties: FuzzProperty[] = [
  ...coreProperties,
  ...onnxProperties,
  ...filesProperties,
  ...cliProperties,
  ...nativeProperties,
];
