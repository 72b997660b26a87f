/**
 * One ONNX file that costs what a network costs and answers what another model answers:
 * both graphs run on the same input, and each output is the answering model's output plus
 * zero times the network's (so onnxruntime cannot drop the network's nodes). The FastSAM
 * floor table uses it to time samlite on object masks (the built-in model's) at the cost of
 * a real FastSAM-s network (the kit's rebuilt graph, or the stand-in): the built-in model
 * alone costs less than decoding a 12 MP photo, so its own floor cannot show what samlite
 * adds around a real network.
 *
 * Both graphs must have the same single input and the same output names; the result is a
 * plain file under the answering model's contract, opened like any other (no special path).
 */
import { readFileSync } from 'node:fs';
import { DATA_TYPE, modelProtoType } from '../onnx/proto.js';

/** The parts of onnx.ModelProto this module reads and rewrites (protobufjs message objects). */
interface ValueInfo {
  name: string;
}
interface Node {
  input: string[];
  output: string[];
  name?: string;
  attribute: { g?: unknown; graphs?: unknown[] }[];
}
interface Graph {
  node: Node[];
  initializer: { name: string }[];
  input: ValueInfo[];
  output: ValueInfo[];
  value_info: ValueInfo[];
  name?: string;
}
interface Model {
  graph: Graph;
  opset_import: { domain?: string; version: number | { toNumber(): number } }[];
  metadata_props: { key: string; value: string }[];
  doc_string?: string;
}

function version(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** Every value name of `graph` except `keep` gets `prefix` (subgraphs are refused: a YOLO network has none). */
function prefixNames(graph: Graph, prefix: string, keep: string, what: string): void {
  const rename = (name: string) => (name === '' || name === keep ? name : prefix + name);
  for (const node of graph.node) {
    if (node.attribute.some((a) => a.g || (a.graphs && a.graphs.length > 0))) throw new Error(`${what}: node ${node.name ?? ''} has a subgraph, which this merge does not rename`);
    node.input = node.input.map(rename);
    node.output = node.output.map(rename);
    if (node.name) node.name = prefix + node.name;
  }
  for (const list of [graph.initializer, graph.input, graph.output, graph.value_info]) for (const v of list) v.name = rename(v.name);
}

/**
 * The bytes of a model that runs `network` and `answers` (file paths) on one input and
 * returns `answers`' outputs: out = answer + 0 * network's output of the same name.
 */
export function answersAtNetworkCost(network: string, answers: string): Uint8Array {
  const type = modelProtoType();
  const net = type.decode(readFileSync(network)) as unknown as Model;
  const ans = type.decode(readFileSync(answers)) as unknown as Model;
  const [input, other] = ans.graph.input;
  if (!input || other || net.graph.input.length !== 1 || net.graph.input[0].name !== input.name) {
    throw new Error(`${network} and ${answers} must each have one input of the same name`);
  }
  const outputs = ans.graph.output.map((o) => o.name);
  const netOutputs = net.graph.output.map((o) => o.name);
  if (outputs.length !== netOutputs.length || outputs.some((o) => !netOutputs.includes(o))) {
    throw new Error(`${network} has outputs ${netOutputs.join(', ')}; ${answers} has ${outputs.join(', ')}: they must be the same`);
  }
  // The network's names move under network/; the answering graph keeps its own (its
  // subgraphs may read them) except its outputs, which the joins below now produce.
  prefixNames(net.graph, 'network/', input.name, network);
  for (const node of ans.graph.node) {
    node.input = node.input.map((v) => (outputs.includes(v) ? `answers/${v}` : v));
    node.output = node.output.map((v) => (outputs.includes(v) ? `answers/${v}` : v));
  }
  const zero = { name: 'answers_at_cost/zero', data_type: DATA_TYPE.float32, dims: [], float_data: [0] };
  const joins: Node[] = outputs.flatMap((o) => [
    { op_type: 'Mul', name: `answers_at_cost/${o}/zero`, input: [`network/${o}`, zero.name], output: [`answers_at_cost/${o}/zero`], attribute: [] } as Node,
    { op_type: 'Add', name: `answers_at_cost/${o}`, input: [`answers/${o}`, `answers_at_cost/${o}/zero`], output: [o], attribute: [] } as Node,
  ]);
  // Both graphs' operator sets at the newer version of each domain (onnxruntime checks each node against it).
  const opsets = new Map<string, number>();
  for (const o of [...net.opset_import, ...ans.opset_import]) opsets.set(o.domain ?? '', Math.max(opsets.get(o.domain ?? '') ?? 0, version(o.version)));
  const merged = type.fromObject({
    ir_version: 8,
    producer_name: 'samlite bench (answers at network cost)',
    opset_import: [...opsets].map(([domain, v]) => ({ domain, version: v })),
    doc_string: `Answers of ${answers} at the cost of ${network} (samlite bench).`,
    metadata_props: net.metadata_props,
    graph: {
      name: 'answers_at_network_cost',
      node: [...net.graph.node, ...ans.graph.node, ...joins],
      initializer: [...net.graph.initializer, ...ans.graph.initializer, zero],
      input: [input],
      output: ans.graph.output,
      value_info: [...net.graph.value_info, ...ans.graph.value_info],
    },
  });
  return type.encode(merged).finish();
}
