/**
 * A FastSAM render worker thread: renders its share of an image's masks (render-share.ts)
 * and sends them back with their RLE facts, the counts' buffers transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { runRenderJob, type RenderJob, type RenderReply } from './render-share.js';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread (see render-pool.ts)');

port.on('message', (job: RenderJob) => {
  let reply: RenderReply;
  try {
    reply = runRenderJob(job);
  } catch (err) {
    reply = { job: job.job, error: err instanceof Error ? err.message : String(err) };
  }
  const transfer = 'masks' in reply ? reply.masks.flatMap((m) => [m.rle.counts.buffer as ArrayBuffer, ...(m.facts ? [m.facts.cocoJson.buffer as ArrayBuffer] : [])]) : [];
  port.postMessage(reply, transfer);
});
