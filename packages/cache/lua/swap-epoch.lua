-- Compare-and-set of the epoch: the rebuild that wrote `pending:<token>` may extend, finish or drop
-- its marker, but not one whose marker was lost to a FLUSHALL or replaced by a rebuild started later.
-- KEYS[1]  the epoch, <prefix>{relay}:epoch
-- ARGV[1]  the value the key must hold
-- ARGV[2]  the value to write, or '' to delete the key
-- ARGV[3]  time to live in milliseconds, or 0 to keep the new value until replaced
-- Returns  1 when written (or deleted), 0 when the key held something else (or nothing)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
