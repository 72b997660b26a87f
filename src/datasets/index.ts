export * from './types.js';
export * from './source.js';
export * from './paths.js';
export { PART_VERSION, parsePart, readPart, serializePart, listPartFiles, type DatasetPart } from './part.js';
export * from './coco.js';
export * from './yolo-seg.js';
export * from './labelme.js';
export * from './labelstudio.js';
export * from './writer.js';
