/**
 * The inference worker thread: holds one model's onnxruntime sessions and runs them, so
 * onnxruntime-node's synchronous `session.run` blocks this thread instead of the main one.
 *
 * Requests are handled strictly one after another: onnxruntime-node defers each run to
 * setImmediate, and without the queue a 'close' could overtake the run queued before it.
 */
import { parentPort } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { createOrtSession, signaturesOf } from './ort-session.js';
import { errorToWire, type Opened, type Reply, type Request } from './protocol.js';
import { HeldInputs, encodeOutputs } from './tensor-wire.js';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs as a worker thread (see worker-host.ts)');

const sessions = new Map<number, ort.InferenceSession>();
const held = new HeldInputs();
let nextSession = 1;

function session(id: number): ort.InferenceSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`inference worker: no open session ${id}`);
  return s;
}

async function handle(req: Request): Promise<void> {
  try {
    switch (req.op) {
      case 'open': {
        const created = await createOrtSession(req.path, req.settings);
        const id = nextSession++;
        sessions.set(id, created.session);
        const value: Opened = {
          session: id,
          inputs: signaturesOf(created.session.inputMetadata),
          outputs: signaturesOf(created.session.outputMetadata),
          ...(created.cudaUnavailable ? { cudaUnavailable: created.cudaUnavailable } : {}),
        };
        reply({ id: req.id, ok: true, value });
        return;
      }
      case 'run': {
        const outputs = (await session(req.session).run(held.decode(req.feeds))) as Record<string, ort.Tensor>;
        const out = encodeOutputs(outputs, (buffer) => held.isHeld(buffer));
        reply({ id: req.id, ok: true, value: out.value }, out.transfer);
        return;
      }
      case 'release': {
        const s = session(req.session);
        sessions.delete(req.session);
        await s.release();
        reply({ id: req.id, ok: true });
        return;
      }
      case 'close': {
        const open = [...sessions.values()];
        sessions.clear();
        await Promise.all(open.map((s) => s.release()));
        reply({ id: req.id, ok: true });
        return;
      }
      case 'crash':
        process.exit(70);
    }
  } catch (err) {
    reply({ id: req.id, ok: false, error: errorToWire(err) });
  }
}

function reply(message: Reply, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(message, transfer);
  } catch {
    // A buffer onnxruntime made but V8 cannot transfer (e.g. external memory): copy instead.
    port!.postMessage(message);
  }
}

let queue = Promise.resolve();
port.on('message', (req: Request) => {
  queue = queue.then(() => handle(req));
});
