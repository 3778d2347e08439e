#!lua flags=allow-oom
-- Removes an author's hash unless it holds a version newer than the one the removal is about
-- (an id reused after the removal was queued keeps the newer author's count).
-- KEYS[1]  the author's hash, <prefix>author:<id>
-- ARGV[1]  the last version known for the removed author, a decimal string
-- Returns  1 when removed, 0 when there was nothing to remove or the stored version is newer
-- Anything under the key that is not a well-formed count (another type, a version that is not a
-- number) is removed. allow-oom: it only deletes, which frees memory, so it runs when Redis is full.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return redis.call('DEL', KEYS[1])
end
local stored = redis.call('HGET', KEYS[1], 'version')
local limit = ARGV[1]
if stored and string.match(stored, '^%d+$') and (#stored > #limit or (#stored == #limit and stored > limit)) then
  return 0
end
return redis.call('DEL', KEYS[1])
