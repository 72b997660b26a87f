/**
 * The server's OpenAPI 3.1 document (`GET /api/openapi.json`): every endpoint, its body and
 * its answers, so clients can be generated and requests checked.
 */

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const error = { description: 'bad request: {"error": "<one line>"}', ...json({ $ref: '#/components/schemas/Error' }) };
const errors = {
  '400': error,
  '401': { description: 'no token' },
  '403': { description: 'wrong token, or a Host that is not this machine' },
  '413': { description: 'body over --max-body' },
  '429': { description: 'inference queue full; retry after Retry-After seconds' },
};
const imageRef = {
  image: { type: 'string', description: 'name of a served image (relative to the served folder, `/`-separated)' },
  image_data: { type: 'string', contentEncoding: 'base64', description: 'or: the bytes of an image file' },
  image_name: { type: 'string', description: 'with image_data: the name used in messages and records' },
  model: { type: 'string', description: "a model name (default: the server's model)" },
};

/** The document. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'samlite serve', version: '1', description: "samlite's own API and osam's POST /api/generate. Every request needs the token: `Authorization: Bearer <token>` (or the page's cookie)." },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
        PromptSet: {
          type: 'object',
          description: 'one prompt set of a samlite prompts file: points/neg_points/box (and mask_index), or steps (one per click)',
          properties: {
            points: { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } },
            neg_points: { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } },
            box: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
            mask_index: { type: 'integer', minimum: 0 },
            steps: { type: 'array', items: { type: 'object' } },
            id: { type: ['string', 'number'] },
          },
        },
        SegmentRecord: { type: 'object', description: "the CLI's JSON record of one mask (`samlite segment --json`), plus mask_index" },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/health': { get: { summary: 'liveness, the model served and the queue', responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/models': { get: { summary: 'the catalog with what is installed, and the limits of the served model', responses: { '200': json({ type: 'object' }) } } },
      '/api/images': { get: { summary: 'the served images, by name', responses: { '200': json({ type: 'object' }) } } },
      '/api/image': { get: { summary: 'a served image as JPEG, EXIF orientation applied', parameters: [{ name: 'name', in: 'query', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'image/jpeg' }, ...errors } } },
      '/api/session': { get: { summary: "the page's saved annotation: categories and each image's objects", responses: { '200': json({ type: 'object' }) } } },
      '/api/prepare': { post: { summary: "compute an image's embedding ahead of its prompts", requestBody: json({ type: 'object', properties: imageRef }), responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/segment': {
        post: {
          summary: 'masks for one prompt set',
          requestBody: json({
            type: 'object',
            properties: { ...imageRef, prompt: { $ref: '#/components/schemas/PromptSet' }, multimask: { type: 'boolean' }, preview_side: { type: 'integer', minimum: 16, description: 'render at most this many pixels on the long side (a preview)' } },
            required: ['prompt'],
          }),
          responses: { '200': json({ type: 'object', properties: { masks: { type: 'array', items: { $ref: '#/components/schemas/SegmentRecord' } } } }), ...errors },
        },
      },
      '/api/everything': { post: { summary: 'every mask of an image, as `samlite everything --format json` writes it (SA-1B)', requestBody: json({ type: 'object', properties: { ...imageRef, grid: { type: 'integer', minimum: 1, maximum: 64 } } }), responses: { '200': json({ type: 'object' }), ...errors } } },
      '/api/save': {
        post: {
          summary: "save a served image's objects: writes the --format files and the session file, as `samlite segment --prompts <session>` would",
          requestBody: json({ type: 'object', properties: { image: { type: 'string' }, categories: { type: 'array', items: { type: 'string' } }, objects: { type: 'array', items: { type: 'object', properties: { category: { type: 'string' }, prompt: { $ref: '#/components/schemas/PromptSet' } } } } }, required: ['image', 'objects'] }),
          responses: { '200': json({ type: 'object', properties: { files: { type: 'array' }, problems: { type: 'array' } } }), ...errors },
        },
      },
      '/api/generate': {
        post: {
          summary: "osam's generate: request and response as osam defines them",
          requestBody: json({ type: 'object', properties: { model: { type: 'string' }, image: { type: 'string', contentEncoding: 'base64' }, image_embedding: { type: 'object' }, prompt: { type: 'object', properties: { points: { type: 'array' }, point_labels: { type: 'array' } } } }, required: ['model'] }),
          responses: { '200': json({ type: 'object' }), '400': { description: 'osam\'s {"detail": "..."}' }, '422': { description: 'FastAPI validation error' } },
        },
      },
      '/api/openapi.json': { get: { summary: 'this document', responses: { '200': json({ type: 'object' }) } } },
    },
  };
}
