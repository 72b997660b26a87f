export type { Point, Box, Prompt } from './types.js';
export { parsePointFlag, parseBoxFlag, promptFromFlags, type PromptFlags } from './flags.js';
export { parsePromptsJson, readPromptsFile, type PromptPlan, type PromptSet } from './prompts-file.js';
export { checkPromptInImage } from './bounds.js';
