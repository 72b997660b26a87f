import { Option, type Command } from 'commander';
import { installInterruptHandler, interruptWording } from '../../batch/interrupt.js';
import { UsageError } from '../../util/errors.js';
import { DEFAULT_POLYGON_TOLERANCE } from '../../masks/polygons.js';
import { newToken } from '../../server/auth.js';
import { isLoopback, startServer } from '../../server/server.js';
import type { SegmentFormat } from '../../writers/naming.js';
import type { DatasetFormat } from '../../datasets/types.js';
import { assertFolderUsable } from '../../writers/files.js';
import { datasetOptions, splitFormats, wantsJson, type DatasetFlags } from '../options.js';
import { createUi, emitJsonLine } from '../ui.js';

interface ServeFlags extends DatasetFlags {
  model?: string;
  out: string;
  format?: (SegmentFormat | DatasetFormat)[];
  polygonTolerance: number;
  host: string;
  port: number;
  /** commander's --no-token sets this to false. */
  token: string | boolean;
  cors?: string;
  maxPixels?: number;
  maxBody: number;
  queue: number;
  threads?: number;
  device: 'cpu' | 'cuda';
  json?: boolean;
  quiet?: boolean;
}

/** Default port: osam's, so osam's clients reach samlite unchanged. */
export const DEFAULT_PORT = 11368;
const DEFAULT_MAX_BODY = 64 * 1024 ** 2;
const DEFAULT_QUEUE = 16;

async function runServe(inputs: string[], flags: ServeFlags): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const { own: formats, dataset } = splitFormats<SegmentFormat>(flags.format ?? ['coco']);
  const token = flags.token === false ? undefined : typeof flags.token === 'string' ? flags.token : newToken();
  if (token === undefined && !isLoopback(flags.host)) throw new UsageError(`--no-token is allowed on loopback only; --host ${flags.host} needs a token`);
  if (inputs.length > 0) await assertFolderUsable(flags.out, '--out');
  const server = await startServer({
    inputs,
    model: flags.model,
    session: { outDir: flags.out, formats, dataset, polygonTolerance: flags.polygonTolerance, cocoSegmentation: flags.cocoSegmentation, imageUrlPrefix: flags.imageUrlPrefix, labelstudioMasks: flags.labelstudioMasks },
    host: flags.host,
    port: flags.port,
    token,
    cors: flags.cors,
    maxPixels: flags.maxPixels,
    maxBody: flags.maxBody,
    queueBound: flags.queue,
    // Models run in a worker thread: the event loop stays free for requests and signals.
    pipeline: { threads: flags.threads, device: flags.device, inference: 'worker', onWarning: (m) => ui.warn(m) },
  });
  const open = token === undefined ? `${server.url}/` : `${server.url}/?token=${token}`;
  if (wantsJson(flags)) emitJsonLine({ url: open, base: server.url, port: server.port, token: token ?? null });
  else process.stdout.write(`${open}\n`);
  ui.info(`samlite serve: open ${open} (Ctrl-C to stop)`);
  if (inputs.length > 0) ui.info(`saving into ${flags.out} as ${[...formats, ...dataset].join(', ')}`);
  // First signal: stop taking requests, finish those in flight (saves included); second: exit at once.
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      ui.info(`${interrupted}: finishing requests in flight (${again} to stop at once)`);
    },
  });
  await new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  interrupt.dispose();
  ui.info('samlite serve: stopped');
  process.exitCode = interrupt.exitCode;
}

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('annotate images in the browser (click an object, see its mask), and answer samlite and osam API requests')
    .argument('[folder|images...]', 'a folder of images (or image files) to annotate; none: images come by upload')
    .option('-m, --model <name|manifest>', 'catalog model name or path to a model manifest (default: see `samlite models default`)')
    .addOption(new Option('-o, --out <dir>', 'where saves go').default('.', 'the current folder'))
    .addOption(new Option('-f, --format <list>', 'files a save writes, comma-separated (as `samlite segment --format`)').default(undefined, 'coco'))
    .addOption(new Option('--polygon-tolerance <px>', 'Douglas-Peucker tolerance of polygon outlines in dataset formats (0 = exact)').default(DEFAULT_POLYGON_TOLERANCE))
    .addOption(new Option('--host <host>', 'address to listen on (another than loopback needs a token)').default('127.0.0.1'))
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').default(DEFAULT_PORT))
    .option('--token <token>', 'the token requests must carry (default: a random one, printed in the URL)')
    .option('--no-token', 'accept requests without a token (loopback only: for clients that cannot send one, such as osam\'s)')
    .option('--cors <origin>', 'let pages from this origin call the API (default: CORS off)')
    .addOption(new Option('--max-pixels <n>', 'refuse images with more pixels than this (default 100M)'))
    .addOption(new Option('--max-body <bytes>', 'largest request body').default(DEFAULT_MAX_BODY, '64Mi'))
    .addOption(new Option('--queue <n>', 'most requests waiting for the model; more are answered 429').default(DEFAULT_QUEUE))
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)')
    .addOption(new Option('--device <device>', 'cpu, or cuda (falls back to the CPU with a warning)').choices(['cpu', 'cuda']).default('cpu'))
    .option('--json', 'print the URL as a JSON line {url, base, port, token}')
    .option('-q, --quiet', 'no messages on stderr (errors still shown)');
  for (const option of datasetOptions()) cmd.addOption(option);
  cmd.addHelpText(
    'after',
    `
Prints the URL to open, with its token (the page keeps it as a cookie). API clients send
Authorization: Bearer <token>. osam's POST /api/generate is answered as osam answers it.
Saves write the files \`samlite segment --prompts <out>/samlite-prompts.json\` writes.

Examples:
  $ samlite serve photos/ --model mobilesam --format coco,yolo-seg --out dataset/
  $ samlite serve --no-token                      osam's clients on 127.0.0.1:11368`,
  );
  cmd.action((inputs: string[], flags: ServeFlags) => runServe(inputs, flags));
}
