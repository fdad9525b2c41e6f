/**
 * The Open Inference Protocol's tensor datatypes ("FP32", "INT64", ...) and the dtypes that hold
 * them here. The protocol has more datatypes than tensorrt-node moves (UINT16, UINT32, UINT64,
 * INT16, BYTES); a request that uses one of those gets a clear 400 naming what is supported.
 */
import type { DType } from '../core/dtypes.js';

/** Protocol datatype -> dtype, for every datatype a model here can have. */
const datatypeToDtype = {
  BOOL: 'bool',
  UINT8: 'uint8',
  INT8: 'int8',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  BF16: 'bfloat16',
  FP32: 'float32',
  FP64: 'float64',
  // Not in the protocol's list; Triton names it this way for its FP8 tensors.
  FP8_E4M3: 'fp8e4m3',
} as const satisfies Record<string, DType>;

export type Datatype = keyof typeof datatypeToDtype;

export const datatypes: readonly Datatype[] = Object.keys(datatypeToDtype) as Datatype[];

const dtypeToDatatype = Object.fromEntries(
  Object.entries(datatypeToDtype).map(([datatype, dtype]) => [dtype, datatype]),
) as Record<DType, Datatype>;

/** The protocol datatype of `dtype` ("float32" -> "FP32"). */
export function datatypeOf(dtype: DType): Datatype {
  return dtypeToDatatype[dtype];
}

/** The dtype of a protocol datatype, or undefined for one this server cannot hold (BYTES, UINT16, ...). */
export function dtypeOf(datatype: string): DType | undefined {
  return Object.hasOwn(datatypeToDtype, datatype) ? datatypeToDtype[datatype as Datatype] : undefined;
}
