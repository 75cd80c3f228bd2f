export * from './subjects.js';
export * from './errors.js';
export * from './chat.schema.js';
export * from './claims.schema.js';
export * from './agent-wire.js';
export * from './run-grant.js';
export * from './agent-streams.js';
export * from './run-log.js';
