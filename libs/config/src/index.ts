export * from './load-config.js';
export * from './env.schema.js';
export * from './gateway-config.schema.js';
export * from './agent-config.schema.js';
export * from './env-json-schema.js';
export * from './migrate-config.schema.js';
export * from './nats-options.js';
