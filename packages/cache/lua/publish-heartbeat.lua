-- Publishes the relay heartbeat only while Redis can be trusted: the epoch says a full re-mirror
-- finished on this very server process (same run_id). After a FLUSHALL (epoch gone), a restart (new
-- run_id, perhaps an older AOF) or during a rebuild (epoch pending) it withdraws the heartbeat
-- instead, in the same atomic step, so the API never sees a heartbeat over counts that went back in time.
-- KEYS[1]  the heartbeat, <prefix>relay:heartbeat
-- KEYS[2]  the epoch, <prefix>relay:epoch
-- ARGV[1]  the heartbeat's value (JSON details)
-- ARGV[2]  time to live in milliseconds, a positive integer
-- Returns  1 when published, 0 when withdrawn because the epoch does not vouch for this server
local epoch = redis.call('GET', KEYS[2])
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if epoch and runId and string.sub(epoch, 1, #runId + 7) == 'final:' .. runId .. ':' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
