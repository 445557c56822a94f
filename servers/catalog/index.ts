export * from './schema.js';
export { BUILTIN_PROFILES } from './profiles.js';
export * from './config.js';
export * from './targets.js';
