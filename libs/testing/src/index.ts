export * from './ports.js';
export * from './wait.js';
export * from './processes.js';
export * from './tcp.js';
export * from './private-servers.js';
export * from './database.js';
export * from './auth-emulator.js';
export * from './openai-compatible-server.js';
