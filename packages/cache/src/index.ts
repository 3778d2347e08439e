// @tally/cache: the Redis side of the counter. Keys, Lua scripts and connection settings live
// here so the API, worker and CLI agree on them.
export * from './cache-epoch.js';
export * from './connection.js';
export * from './counts.js';
export * from './heartbeat.js';
export * from './keys.js';
export { defineScripts } from './scripts.js';
export * from './queues.js';
export * from './prefix-keys.js';
export * from './redis-client.js';
export * from './scan-keys.js';
export * from './node-pipelines.js';
