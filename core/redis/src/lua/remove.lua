-- Removes entries (by entry id) from one timeline, freeing the originals of removed boosts.
-- KEYS: entries, boosts, originals, version (as in add.lua)
-- ARGV: entry ids (16-hex)
-- Returns: how many were removed.
local entries, boosts, originals, version = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local removed = 0
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', entries, id) == 1 then
    removed = removed + 1
    local original = redis.call('HGET', boosts, id)
    if original then
      redis.call('HDEL', boosts, id)
      redis.call('HDEL', originals, original)
    end
  end
end
if removed > 0 and redis.call('EXISTS', version) == 1 then redis.call('INCR', version) end
return removed
