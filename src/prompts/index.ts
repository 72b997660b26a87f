export type { Point, Box, Prompt } from './types.js';
export { parsePointFlag, parseBoxFlag, promptFromFlags, type PromptFlags } from './flags.js';
export { parsePromptsJson, type PromptPlan, type PromptSet, type PlannedImage } from './prompts-file.js';
export { checkPromptInImage } from './bounds.js';
export { readPrompts, readPromptsFile, PROMPTS_FORMATS, type PromptsFormat, type ReadPromptsOptions } from './read-prompts.js';
export { parseCocoDetections, looksLikeCoco } from './coco-detections.js';
export { readYoloDetections, parseYoloLabels, defaultYoloImageRoot, YOLO_CLASSES_FILE, type YoloLabels } from './yolo-detections.js';
export { promptForImage, clipBox, type DetectionReadOptions } from './detections.js';
