-- Adds entries to one timeline, keeping at most one entry per original status, then trims
-- it to the newest `cap`. Atomic: the dedupe check and the write cannot interleave with
-- another writer.
-- KEYS: entries (zset, score 0, member = 16-hex id), boosts (hash boost -> original),
--       originals (hash original -> boost), version (counter; its existence marks a built timeline)
-- ARGV: only_if_built ("1" | "0"), cap, seed (version of a newly built timeline),
--       then pairs: entry id, original id ("" when not a boost), oldest first
-- Returns: -1 when only_if_built and the timeline is not built, else how many were added.
local entries, boosts, originals, version = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', version) == 0 then
  if ARGV[1] == '1' then return -1 end
  redis.call('SET', version, ARGV[3])
end
local cap = tonumber(ARGV[2])
local added = 0
for i = 4, #ARGV, 2 do
  local id, original = ARGV[i], ARGV[i + 1]
  if not redis.call('ZSCORE', entries, id) then
    if original == '' then
      -- An original already shown through a boost of it is not added again.
      if redis.call('HEXISTS', originals, id) == 0 then
        redis.call('ZADD', entries, 0, id)
        added = added + 1
      end
    elseif not redis.call('ZSCORE', entries, original) and redis.call('HEXISTS', originals, original) == 0 then
      redis.call('ZADD', entries, 0, id)
      redis.call('HSET', boosts, id, original)
      redis.call('HSET', originals, original, id)
      added = added + 1
    end
  end
end
local size = redis.call('ZCARD', entries)
if size > cap then
  local oldest = redis.call('ZRANGE', entries, 0, size - cap - 1)
  for _, id in ipairs(oldest) do
    local original = redis.call('HGET', boosts, id)
    if original then
      redis.call('HDEL', boosts, id)
      redis.call('HDEL', originals, original)
    end
  end
  redis.call('ZREMRANGEBYRANK', entries, 0, size - cap - 1)
end
if added > 0 then redis.call('INCR', version) end
return added
