#!lua
-- Writes an author's count into its hash unless Redis already holds that version or a newer one.
-- KEYS[1]  the author's hash, <prefix>author:<id>
-- ARGV[1]  books_count, a decimal string
-- ARGV[2]  version, a decimal string without leading zeros
-- Returns  1 when written, 0 when the stored version was equal or newer (a replay: nothing to do)
-- Versions are compared as decimal strings (length, then digits): Lua numbers are doubles and
-- would misorder versions past 2^53. The database is the truth, so whatever else sits under the
-- key (another type, a version that is not a number) is replaced rather than allowed to block
-- every later write.
-- The shebang declares a writing script: Redis refuses to run it at all when it is out of memory
-- (noeviction), instead of letting its first DEL through and every write after it.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  redis.call('DEL', KEYS[1])
end
local stored = redis.call('HGET', KEYS[1], 'version')
if stored and not string.match(stored, '^%d+$') then
  stored = nil
end
local incoming = ARGV[2]
if stored and (#stored > #incoming or (#stored == #incoming and stored >= incoming)) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'books_count', ARGV[1], 'version', incoming)
return 1
