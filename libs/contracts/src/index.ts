export * from './subjects.js';
export * from './errors.js';
export * from './chat.schema.js';
export * from './claims.schema.js';
export * from './plans.schema.js';
