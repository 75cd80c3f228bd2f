export * from './ports.js';
export * from './wait.js';
export * from './processes.js';
export * from './openai-compatible-server.js';
