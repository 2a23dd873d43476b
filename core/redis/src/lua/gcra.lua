-- GCRA on one key holding the theoretical arrival time (ms), the same arithmetic as
-- shared::rate::Quota::check. The key expires a second after the bucket is full again (the
-- margin absorbs clock skew between core processes; an expired key means a full bucket).
-- KEYS: the key
-- ARGV: limit, period_ms, now_ms
-- Returns: {allowed (1|0), tat_ms, remaining, reset_at_ms, retry_after_ms}
local limit, period, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local interval = math.max(math.floor(period / math.max(limit, 1)), 1)
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local new_tat = tat + interval
if limit == 0 or new_tat - now > period then
  local retry = period
  if limit ~= 0 then retry = new_tat - now - period end
  return {0, tat, 0, tat, retry}
end
local remaining = math.floor((period - (new_tat - now)) / interval)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', new_tat - now + 1000))
return {1, new_tat, remaining, new_tat, 0}
