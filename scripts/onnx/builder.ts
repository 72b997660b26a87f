/**
 * A small ONNX graph builder: declare inputs, add initializers from typed arrays, chain
 * operators, name outputs, get model bytes.
 *
 * ```ts
 * const g = new GraphBuilder({ name: 'double' });
 * const x = g.input('x', 'float32', ['N', 3]);
 * const y = g.op('Mul', [x, g.scalar(2)]);
 * g.output(y, 'y', 'float32', ['N', 3]);
 * const bytes = g.toBytes();
 * ```
 *
 * Design choices, all for the two uses this has (the built-in segmenter and random-weight
 * benchmark models):
 * - Values are objects, not strings, so a value can be renamed when it becomes a graph
 *   output (no Identity copy of large outputs) and names never collide.
 * - Names come from one counter per model, so the same build code gives the same bytes.
 * - Constants are deduplicated by content and always stored in the top-level graph, where
 *   Loop/If bodies see them as outer-scope values.
 * - No shape inference: ONNX Runtime does that when it loads the model. Graph inputs and
 *   outputs carry the declared dtype and dims, which is what `session.inputMetadata` and
 *   `outputMetadata` report.
 */
import { createHash } from 'node:crypto';
import { ATTRIBUTE_TYPE, DATA_TYPE, type DType, modelProtoType } from './proto.js';

/** A dimension: a fixed size, or a symbolic name such as `'H'` (shown as-is in metadata). */
export type Dim = number | string;

/** Typed arrays the builder can store as tensor data. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Uint16Array;

/** One tensor value in a graph: a graph input, an initializer, or an operator output. */
export class Value {
  /** @internal use GraphBuilder methods to make values. */
  constructor(
    readonly graph: GraphBuilder,
    public name: string,
    readonly kind: 'input' | 'initializer' | 'node',
    /** Known element type (inputs, constants and casts), else undefined. */
    readonly dtype?: DType,
  ) {}
}

/** A constant tensor for a TENSOR attribute (e.g. ConstantOfShape's `value`). */
export class TensorAttr {
  constructor(
    readonly dtype: DType,
    readonly dims: readonly number[],
    readonly data: TensorData,
  ) {}
}

/** Forces a FLOAT/FLOATS attribute where the JS value would otherwise be written as INT(S). */
export class FloatAttr {
  constructor(readonly value: number | readonly number[]) {}
}

/** Marks a float attribute value (`{ alpha: float(1) }`); only needed for integral values. */
export function float(value: number | readonly number[]): FloatAttr {
  return new FloatAttr(value);
}

/** Wraps data as a TENSOR attribute value (`ConstantOfShape { value: tensorAttr('float32', [1], ...) }`). */
export function tensorAttr(dtype: DType, dims: readonly number[], data: TensorData | readonly number[]): TensorAttr {
  return new TensorAttr(dtype, dims, toTypedArray(dtype, data));
}

/** Attribute values; numbers are INT when integral unless the name is a known float attribute. */
export type AttrValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | FloatAttr
  | TensorAttr
  | GraphBuilder;

/** Attributes of one node, by name. `undefined` entries are skipped. */
export type Attrs = Record<string, AttrValue | undefined>;

/** Attribute names that ONNX defines as FLOAT(S), so `{ epsilon: 1 }` is written correctly. */
const FLOAT_ATTRIBUTE_NAMES = new Set([
  'alpha',
  'beta',
  'gamma',
  'epsilon',
  'bias',
  'lambd',
  'momentum',
  'ratio',
  'extrapolation_value',
  'cubic_coeff_a',
  'spatial_scale',
  'value_float',
  'value_floats',
]);

/** An input to `op`: a value, or null/undefined for an omitted optional input. */
export type OpInput = Value | null | undefined;

interface NodeRecord {
  readonly opType: string;
  readonly name: string;
  readonly domain: string;
  readonly inputs: readonly OpInput[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
}

interface IoRecord {
  readonly value: Value;
  readonly dtype: DType;
  readonly dims: readonly Dim[] | undefined;
  readonly doc?: string;
}

interface InitializerRecord {
  readonly value: Value;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly raw: Uint8Array;
}

/** Shared per-model state: the name counter and the constant pool. */
interface ModelState {
  counter: number;
  readonly names: Set<string>;
  readonly constants: Map<string, Value>;
}

/** Options for a top-level graph. */
export interface GraphOptions {
  /** Graph name stored in the model. */
  readonly name?: string;
  /** Default-domain opset version (default 18, the first with ScatterElements min/max). */
  readonly opset?: number;
  /** Extra operator sets, e.g. `{ 'com.microsoft': 1 }` for ONNX Runtime contrib ops. */
  readonly extraOpsets?: Readonly<Record<string, number>>;
}

/** Options for `toBytes`. */
export interface ModelOptions {
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** `metadata_props`, readable with ONNX Runtime's model metadata APIs. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** IR version (default 8, matching opset 18). */
  readonly irVersion?: number;
}

/** Builds one ONNX graph (the model's main graph, or a Loop/If body made with `subgraph`). */
export class GraphBuilder {
  readonly name: string;
  readonly opset: number;
  readonly parent: GraphBuilder | undefined;
  private readonly extraOpsets: Readonly<Record<string, number>>;
  private readonly state: ModelState;
  private readonly nodes: NodeRecord[] = [];
  private readonly inputs: IoRecord[] = [];
  private readonly outputs: IoRecord[] = [];
  private readonly initializers: InitializerRecord[] = [];
  private readonly docs: string[] = [];

  /** A top-level graph; `parent` is for `subgraph`, which is the way to make bodies. */
  constructor(options: GraphOptions = {}, parent?: GraphBuilder) {
    this.name = options.name ?? 'graph';
    this.opset = parent ? parent.opset : (options.opset ?? 18);
    this.extraOpsets = parent ? {} : (options.extraOpsets ?? {});
    this.parent = parent;
    this.state = parent ? parent.state : { counter: 0, names: new Set(), constants: new Map() };
  }

  /** The top-level graph (where constants live). */
  get root(): GraphBuilder {
    return this.parent ? this.parent.root : this;
  }

  /**
   * Makes a body graph for Loop/If/Scan. It shares this model's names and constants and
   * may use any value of enclosing graphs directly (ONNX outer-scope capture).
   */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder({ name: this.uniqueName(name) }, this);
  }

  /** Adds a line to the graph's doc_string. */
  doc(text: string): void {
    this.docs.push(text);
  }

  /** Declares a graph input. Dims may be numbers or symbolic names; omit dims for unknown rank. */
  input(name: string, dtype: DType, dims?: readonly Dim[], doc?: string): Value {
    this.claimName(name);
    const value = new Value(this, name, 'input', dtype);
    this.inputs.push({ value, dtype, dims, doc });
    return value;
  }

  /**
   * Marks `value` as a graph output named `name`. The producing node's output is renamed
   * when possible; graph inputs, initializers and values already output get an Identity.
   */
  output(value: Value, name: string, dtype: DType, dims?: readonly Dim[], doc?: string): Value {
    let out = value;
    const alreadyOutput = this.outputs.some((o) => o.value === value);
    const producedHere = value.kind === 'node' && value.graph === this && this.producesHere(value);
    if (!producedHere || alreadyOutput) {
      out = this.op('Identity', [value]);
    }
    if (out.name !== name) {
      this.claimName(name);
      this.state.names.delete(out.name);
      out.name = name;
    }
    this.outputs.push({ value: out, dtype, dims, doc });
    return out;
  }

  /**
   * Adds a constant tensor (an initializer of the top-level graph). Identical constants
   * (same dtype, dims and bytes) are stored once. `data` may be a typed array or numbers.
   */
  constant(dtype: DType, dims: readonly number[], data: TensorData | readonly number[] | readonly bigint[], name?: string): Value {
    const typed = toTypedArray(dtype, data);
    const count = dims.reduce((a, b) => a * b, 1);
    if (typed.length !== count) {
      throw new Error(`constant ${name ?? ''}: ${typed.length} values for dims [${dims.join(', ')}]`);
    }
    const raw = rawBytes(dtype, typed);
    const root = this.root;
    if (name === undefined) {
      const key = `${dtype}|${dims.join(',')}|${createHash('sha256').update(raw).digest('hex')}`;
      const existing = this.state.constants.get(key);
      if (existing) return existing;
      const value = new Value(root, root.uniqueName('const'), 'initializer', dtype);
      root.initializers.push({ value, dtype, dims: [...dims], raw });
      this.state.constants.set(key, value);
      return value;
    }
    root.claimName(name);
    const value = new Value(root, name, 'initializer', dtype);
    root.initializers.push({ value, dtype, dims: [...dims], raw });
    return value;
  }

  /** A float32 scalar constant (rank 0). */
  scalar(x: number): Value {
    return this.constant('float32', [], [x]);
  }

  /** An int64 scalar constant (rank 0). */
  scalarI64(x: number): Value {
    return this.constant('int64', [], [x]);
  }

  /** A 1-D float32 constant. */
  f32(values: readonly number[]): Value {
    return this.constant('float32', [values.length], values);
  }

  /** A 1-D int64 constant (shapes, axes, starts/ends). */
  i64(values: readonly number[]): Value {
    return this.constant('int64', [values.length], values);
  }

  /**
   * Adds a node. Returns its single output, or an array of `nOutputs` outputs when that is
   * given. A non-default operator domain (e.g. 'com.microsoft', declared in
   * `GraphOptions.extraOpsets`) goes in the fifth argument.
   */
  op(opType: string, inputs: readonly OpInput[], attrs?: Attrs): Value;
  op(opType: string, inputs: readonly OpInput[], attrs: Attrs | undefined, nOutputs: number, domain?: string): Value[];
  op(
    opType: string,
    inputs: readonly OpInput[],
    attrs: Attrs = {},
    nOutputs?: number,
    domain = '',
  ): Value | Value[] {
    for (const input of inputs) {
      if (input && !this.canSee(input)) {
        throw new Error(`${opType}: input ${input.name} belongs to a graph this one cannot see`);
      }
    }
    const n = nOutputs ?? 1;
    const base = this.uniqueName(opType);
    const outputs: Value[] = [];
    for (let i = 0; i < n; i++) {
      const outName = n === 1 ? base : this.uniqueName(`${base}_${i}`);
      outputs.push(new Value(this, outName, 'node', opType === 'Cast' ? castDType(attrs) : undefined));
    }
    this.nodes.push({ opType, name: base, domain, inputs: [...inputs], outputs, attrs });
    return nOutputs === undefined ? outputs[0] : outputs;
  }

  // ---- conveniences for common patterns (all plain `op` calls underneath) ----

  /** a + b (all elementwise helpers broadcast like numpy). */
  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b]);
  }
  /** a - b. */
  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b]);
  }
  /** a * b. */
  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b]);
  }
  /** a / b. */
  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b]);
  }
  /** Matrix product over the last two axes (batched, broadcasting). */
  matmul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b]);
  }
  /** `cond ? a : b` elementwise. */
  where(cond: Value, a: Value, b: Value): Value {
    return this.op('Where', [cond, a, b]);
  }
  /** Element type conversion; the result's `dtype` is known. */
  cast(x: Value, to: DType): Value {
    return this.op('Cast', [x], { to: DATA_TYPE[to] });
  }
  /** Reshape to fixed dims (0 copies the input dim, -1 infers one dim) or to a shape value. */
  reshape(x: Value, shape: readonly number[] | Value): Value {
    return this.op('Reshape', [x, shape instanceof Value ? shape : this.i64(shape)]);
  }
  /** Axis permutation. */
  transpose(x: Value, perm: readonly number[]): Value {
    return this.op('Transpose', [x], { perm });
  }
  /** Inserts size-1 axes (opset 13+ form: axes as an input). */
  unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op('Unsqueeze', [x, this.i64(axes)]);
  }
  /** Removes size-1 axes (opset 13+ form: axes as an input). */
  squeeze(x: Value, axes: readonly number[]): Value {
    return this.op('Squeeze', [x, this.i64(axes)]);
  }
  /** Joins values along `axis`. */
  concat(xs: readonly Value[], axis: number): Value {
    return this.op('Concat', xs, { axis });
  }
  /** `Gather` along `axis` (default 0). */
  gather(x: Value, indices: Value, axis = 0): Value {
    return this.op('Gather', [x, indices], { axis });
  }
  /** The shape of `x` as an int64 1-D tensor. */
  shape(x: Value, start?: number, end?: number): Value {
    return this.op('Shape', [x], { start, end });
  }
  /**
   * `Slice` with numbers or values for starts/ends; axes default to 0..n-1, steps to 1.
   * Numbers are stored as constants, values (int64 1-D) are used as they are.
   */
  slice(
    x: Value,
    starts: readonly number[] | Value,
    ends: readonly number[] | Value,
    axes?: readonly number[],
    steps?: readonly number[],
  ): Value {
    const s = starts instanceof Value ? starts : this.i64(starts);
    const e = ends instanceof Value ? ends : this.i64(ends);
    return this.op('Slice', [x, s, e, axes ? this.i64(axes) : null, steps ? this.i64(steps) : null]);
  }
  /** A Reduce* op (opset 18 form: axes as an input). */
  reduce(
    opType: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd' | 'ReduceL2' | 'ReduceSumSquare',
    x: Value,
    axes: readonly number[],
    keepdims = false,
  ): Value {
    return this.op(opType, [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** `Range(start, limit, delta)` from numbers (int64 unless dtype says otherwise) or values. */
  range(start: number | Value, limit: number | Value, delta: number | Value = 1, dtype: DType = 'int64'): Value {
    const c = (v: number | Value): Value => (v instanceof Value ? v : this.constant(dtype, [], [v]));
    return this.op('Range', [c(start), c(limit), c(delta)]);
  }
  /** A tensor of the given shape (int64 1-D value or fixed dims) filled with one number. */
  fill(shape: readonly number[] | Value, value: number, dtype: DType = 'float32'): Value {
    const s = shape instanceof Value ? shape : this.i64(shape);
    return this.op('ConstantOfShape', [s], { value: tensorAttr(dtype, [1], [value]) });
  }

  // ---- serialisation ----

  /** The model as a protobufjs-ready plain object (call on the top-level graph). */
  toModelObject(options: ModelOptions = {}): Record<string, unknown> {
    if (this.parent) throw new Error('toModelObject: call it on the top-level graph');
    const opsets = [{ domain: '', version: this.opset }];
    for (const [domain, version] of Object.entries(this.extraOpsets)) opsets.push({ domain, version });
    const model: Record<string, unknown> = {
      ir_version: options.irVersion ?? 8,
      producer_name: options.producerName ?? 'samlite-onnx-builder',
      producer_version: options.producerVersion ?? '1',
      graph: this.toGraphObject(),
      opset_import: opsets,
    };
    if (options.docString) model.doc_string = options.docString;
    if (options.metadata) {
      model.metadata_props = Object.entries(options.metadata).map(([key, value]) => ({ key, value }));
    }
    return model;
  }

  /** Serialises the model. Identical build code gives identical bytes. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    const type = modelProtoType();
    const object = this.toModelObject(options);
    const problem = type.verify(object);
    if (problem) throw new Error(`invalid ONNX model object: ${problem}`);
    return type.encode(type.fromObject(object)).finish();
  }

  /** Number of nodes in this graph (not counting bodies), for tests and size budgets. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  // ---- internals ----

  /** This graph as a protobufjs-ready plain object (also how bodies become GRAPH attributes). */
  toGraphObject(): Record<string, unknown> {
    const graph: Record<string, unknown> = {
      name: this.name,
      node: this.nodes.map((n) => this.nodeObject(n)),
      input: this.inputs.map(valueInfoObject),
      output: this.outputs.map(valueInfoObject),
      initializer: this.initializers.map((t) => ({
        name: t.value.name,
        dims: t.dims,
        data_type: DATA_TYPE[t.dtype],
        raw_data: t.raw,
      })),
    };
    if (this.docs.length) graph.doc_string = this.docs.join('\n');
    return graph;
  }

  private nodeObject(n: NodeRecord): Record<string, unknown> {
    const attribute: Record<string, unknown>[] = [];
    for (const [name, v] of Object.entries(n.attrs)) {
      if (v !== undefined) attribute.push(attributeObject(name, v));
    }
    const node: Record<string, unknown> = {
      input: n.inputs.map((i) => (i ? i.name : '')),
      output: n.outputs.map((o) => o.name),
      name: n.name,
      op_type: n.opType,
      attribute,
    };
    if (n.domain) node.domain = n.domain;
    return node;
  }

  private producesHere(value: Value): boolean {
    return this.nodes.some((n) => n.outputs.includes(value));
  }

  private canSee(value: Value): boolean {
    for (let g: GraphBuilder | undefined = this; g; g = g.parent) {
      if (value.graph === g) return true;
    }
    return false;
  }

  private claimName(name: string): void {
    if (this.state.names.has(name)) throw new Error(`duplicate value name ${name}`);
    this.state.names.add(name);
  }

  /** A fresh name `prefix_N`, unique in the whole model. */
  uniqueName(prefix: string): string {
    let name: string;
    do {
      name = `${prefix}_${this.state.counter++}`;
    } while (this.state.names.has(name));
    this.state.names.add(name);
    return name;
  }
}

function castDType(attrs: Attrs): DType | undefined {
  const to = attrs.to;
  return (Object.keys(DATA_TYPE) as DType[]).find((k) => DATA_TYPE[k] === to);
}

function valueInfoObject(io: IoRecord): Record<string, unknown> {
  const tensorType: Record<string, unknown> = { elem_type: DATA_TYPE[io.dtype] };
  if (io.dims) {
    tensorType.shape = {
      dim: io.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })),
    };
  }
  const info: Record<string, unknown> = { name: io.value.name, type: { tensor_type: tensorType } };
  if (io.doc) info.doc_string = io.doc;
  return info;
}

function tensorObject(t: TensorAttr): Record<string, unknown> {
  return { dims: t.dims, data_type: DATA_TYPE[t.dtype], raw_data: rawBytes(t.dtype, t.data) };
}

function attributeObject(name: string, v: AttrValue): Record<string, unknown> {
  if (v instanceof GraphBuilder) return { name, type: ATTRIBUTE_TYPE.GRAPH, g: v.toGraphObject() };
  if (v instanceof TensorAttr) return { name, type: ATTRIBUTE_TYPE.TENSOR, t: tensorObject(v) };
  if (v instanceof FloatAttr) {
    return typeof v.value === 'number'
      ? { name, type: ATTRIBUTE_TYPE.FLOAT, f: v.value }
      : { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...v.value] };
  }
  if (typeof v === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (FLOAT_ATTRIBUTE_NAMES.has(name) || !Number.isInteger(v)) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: v };
    return { name, type: ATTRIBUTE_TYPE.INT, i: v };
  }
  if (v.length > 0 && typeof v[0] === 'string') {
    return { name, type: ATTRIBUTE_TYPE.STRINGS, strings: (v as readonly string[]).map((s) => new TextEncoder().encode(s)) };
  }
  const nums = v as readonly number[];
  if (FLOAT_ATTRIBUTE_NAMES.has(name) || nums.some((x) => !Number.isInteger(x))) {
    return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...nums] };
  }
  return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...nums] };
}

/** Converts numbers (or bigints) to the typed array for `dtype`; typed arrays of the right kind pass through. */
export function toTypedArray(dtype: DType, data: TensorData | readonly number[] | readonly bigint[]): TensorData {
  const list = data as ArrayLike<number | bigint>;
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(list, Number);
    case 'float64':
      return data instanceof Float64Array ? data : Float64Array.from(list, Number);
    case 'int32':
      return data instanceof Int32Array ? data : Int32Array.from(list, Number);
    case 'int64':
      return data instanceof BigInt64Array ? data : BigInt64Array.from(list, (x) => BigInt(x));
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array ? data : Uint8Array.from(list, Number);
    case 'int8':
      return data instanceof Int8Array ? data : Int8Array.from(list, Number);
    case 'float16':
      // Raw IEEE half bits: callers convert themselves (no Float16Array in Node 20).
      return data instanceof Uint16Array ? data : Uint16Array.from(list, Number);
  }
}

const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
  bool: 1,
  int8: 1,
  float16: 2,
};

/** Little-endian raw_data bytes, whatever the host byte order (ONNX requires little-endian). */
function rawBytes(dtype: DType, data: TensorData): Uint8Array {
  const size = BYTES_PER_ELEMENT[dtype];
  if (data.BYTES_PER_ELEMENT !== size) throw new Error(`${dtype} tensor given ${data.constructor.name}`);
  const out = new Uint8Array(data.length * size);
  if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.length * size));
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    switch (dtype) {
      case 'float32':
        view.setFloat32(i * 4, x as number, true);
        break;
      case 'float64':
        view.setFloat64(i * 8, x as number, true);
        break;
      case 'int32':
        view.setInt32(i * 4, x as number, true);
        break;
      case 'int64':
        view.setBigInt64(i * 8, x as bigint, true);
        break;
      case 'float16':
        view.setUint16(i * 2, x as number, true);
        break;
      default:
        out[i] = (x as number) & 0xff;
    }
  }
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
