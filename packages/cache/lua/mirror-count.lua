-- Writes an author's count into its hash unless Redis already holds that version or a newer one.
-- KEYS[1]  the author's hash, <prefix>author:<id>
-- ARGV[1]  books_count, a decimal string
-- ARGV[2]  version, a decimal string without leading zeros
-- Returns  1 when written, 0 when the stored version was equal or newer (a replay: nothing to do)
-- Versions are compared as decimal strings (length, then digits): Lua numbers are doubles and
-- would misorder versions past 2^53.
local stored = redis.call('HGET', KEYS[1], 'version')
local incoming = ARGV[2]
if stored and (#stored > #incoming or (#stored == #incoming and stored >= incoming)) then
  return 0
end
redis.call('HSET', KEYS[1], 'books_count', ARGV[1], 'version', incoming)
return 1
