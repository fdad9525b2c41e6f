/** Lines the conformance child writes on stdout start with this (anything else on stdout is onnxruntime's and ignored). */
export const LINE_PREFIX = '@@conformance ';
