export declare const ElementType: Readonly<{ FLOAT: 1; INT32: 6; INT64: 7; FLOAT16: 10 }>;

export interface TinyValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface TinyNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
}

export declare function encodeModel(model: {
  name?: string;
  nodes: TinyNode[];
  inputs: TinyValueInfo[];
  outputs: TinyValueInfo[];
  initializers?: { name: string; elemType: number; dims: number[]; values: ArrayLike<number> }[];
  opset?: number;
  /** metadata_props, e.g. the fake TensorRT's "fake-tensorrt:*" knobs. */
  metadata?: Record<string, string>;
}): Uint8Array;

export declare function affineModel(seed?: number): {
  bytes: Uint8Array;
  weights: number[];
  bias: number[];
  input: 'x';
  features: 4;
  reference(x: ArrayLike<number>, batch: number): { y: Float64Array; z: Float64Array };
};

export declare function nonZeroModel(): {
  bytes: Uint8Array;
  reference(x: ArrayLike<number>): { indices: BigInt64Array; nnz: number; y: Float32Array };
};

export declare function randomFloats(count: number, seed: number): Float32Array;
