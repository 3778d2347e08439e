-- The identity and clock of the Redis server that holds KEYS[1]. On one server that is simply the
-- server; on a Redis Cluster, a script runs on the node that owns its keys' slot (ioredis follows
-- redirections to it), which INFO or TIME sent on their own would not: they go to any node.
-- The worker uses it with the relay's keys, so the heartbeat's expiry and the epoch's run_id are
-- read from the very node whose clock and process publish-heartbeat.lua checks.
-- KEYS[1]  a key on the server in question (not read): <prefix>{relay}:epoch
-- Returns  { run_id, seconds, microseconds } as TIME gives them
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local now = redis.call('TIME')
return { runId or '', now[1], now[2] }
