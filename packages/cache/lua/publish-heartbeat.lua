-- Publishes the relay heartbeat only while Redis can be trusted: the epoch says a full re-mirror
-- finished on this very server process (same run_id). After a FLUSHALL (epoch gone), a restart (new
-- run_id, perhaps an older AOF) or during a rebuild (epoch pending) it withdraws the heartbeat
-- instead, in the same atomic step, so the API never sees a heartbeat over counts that went back in time.
-- The expiry is an instant on this server's clock, fixed before the relay measured its lag: a
-- call delayed by a stall or a reconnect can only shorten the heartbeat, never stretch it.
-- KEYS[1]  the heartbeat, <prefix>{relay}:heartbeat
-- KEYS[2]  the epoch, <prefix>{relay}:epoch
-- ARGV[1]  the heartbeat's value (JSON details)
-- ARGV[2]  when it must expire: milliseconds since the Unix epoch on this server's clock (TIME)
-- Returns  1 published; 0 withdrawn, the epoch does not vouch for this server; 2 withdrawn, the
--          expiry has already passed
local epoch = redis.call('GET', KEYS[2])
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if not (epoch and runId and string.sub(epoch, 1, #runId + 7) == 'final:' .. runId .. ':') then
  redis.call('DEL', KEYS[1])
  return 0
end
local now = redis.call('TIME')
local ttl = math.floor(tonumber(ARGV[2]) - (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
if ttl < 1 then
  redis.call('DEL', KEYS[1])
  return 2
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1
