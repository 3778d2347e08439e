-- Removes an author's hash unless it holds a version newer than the one the removal is about
-- (an id reused after the removal was queued keeps the newer author's count).
-- KEYS[1]  the author's hash, <prefix>author:<id>
-- ARGV[1]  the last version known for the removed author, a decimal string
-- Returns  1 when removed, 0 when there was nothing to remove or the stored version is newer
local stored = redis.call('HGET', KEYS[1], 'version')
local limit = ARGV[1]
if stored and (#stored > #limit or (#stored == #limit and stored > limit)) then
  return 0
end
return redis.call('DEL', KEYS[1])
