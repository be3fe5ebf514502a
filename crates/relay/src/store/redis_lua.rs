//! The Lua scripts of the Redis store. Every write to a channel runs as one script, so
//! several relays on one Redis never race: `seq` comes from `INCR` in the same atomic step
//! as the `XADD` of entry `<seq>-0`, the byte quota and count retention.
//!
//! Every script gets the same `KEYS` (`Keys::all`, one hash tag per channel) and, in
//! `ARGV[1]`, the prefix of the per-event delivery lists (`hr:{CH}:d:<seq>`, same slot).

/// Names for `KEYS`, the quota's prefix removal and the first unfinished `seq`.
const PRELUDE: &str = r"
local K_META, K_SEQ, K_LOG, K_EVENTS, K_RESULTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local K_PENDING, K_IDS, K_TIMES, K_ATTEMPTS, K_EXPIRED = KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local K_TOMB = KEYS[11]
local D = ARGV[1]

-- Removes the stored events first..through with everything kept about them.
local function remove_through(through)
  local first = tonumber(redis.call('HGET', K_META, 'first'))
  local freed, removed = 0, 0
  for s = first, through do
    local raw = redis.call('HGET', K_EVENTS, s)
    if raw then
      local e = cjson.decode(raw)
      freed = freed + e.size
      redis.call('ZREM', K_IDS, e.id .. ':' .. s)
      removed = removed + 1
    end
    redis.call('HDEL', K_EVENTS, s)
    redis.call('HDEL', K_RESULTS, s)
    redis.call('HDEL', K_ATTEMPTS, s)
    redis.call('ZREM', K_PENDING, s)
    redis.call('ZREM', K_TIMES, s)
    redis.call('DEL', D .. s)
  end
  redis.call('XTRIM', K_LOG, 'MINID', (through + 1) .. '-0')
  if through + 1 > first then redis.call('HSET', K_META, 'first', through + 1) end
  redis.call('HINCRBY', K_META, 'bytes', -freed)
  return removed
end

local function first_unfinished()
  local r = redis.call('ZRANGE', K_PENDING, 0, 0)
  if r[1] then return tonumber(r[1]) end
  return nil
end
";

/// `ARGV`: 2 the event's stored JSON, 3 body, 4 size, 5 `max_channel_bytes`, 6
/// `max_events`, 7 id, 8 receive time. Returns the `seq`, -1 for an unknown channel, -2
/// when undelivered events fill the quota (no `seq` used).
const APPEND: &str = r"
if redis.call('EXISTS', K_META) == 0 then return -1 end
local size, limit, max_events = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local over = tonumber(redis.call('HGET', K_META, 'bytes')) + size - limit
if over > 0 then
  local stop = first_unfinished() or math.huge
  local s = tonumber(redis.call('HGET', K_META, 'first'))
  local last = tonumber(redis.call('GET', K_SEQ) or '0')
  local freed, through = 0, nil
  while s < stop and s <= last do
    local raw = redis.call('HGET', K_EVENTS, s)
    if raw then freed = freed + cjson.decode(raw).size end
    if freed >= over then through = s break end
    s = s + 1
  end
  if not through then return -2 end
  remove_through(through)
end
local seq = redis.call('INCR', K_SEQ)
redis.call('XADD', K_LOG, seq .. '-0', 'event', ARGV[2], 'body', ARGV[3])
redis.call('HSET', K_EVENTS, seq, ARGV[2])
redis.call('ZADD', K_PENDING, seq, seq)
redis.call('ZADD', K_IDS, 0, ARGV[7] .. ':' .. seq)
redis.call('ZADD', K_TIMES, ARGV[8], seq)
redis.call('HINCRBY', K_META, 'bytes', size)
-- Count retention: only the finished prefix goes.
local first = tonumber(redis.call('HGET', K_META, 'first'))
local through = seq - max_events
local stop = first_unfinished()
if stop and stop - 1 < through then through = stop - 1 end
if through >= first then remove_through(through) end
return seq
";

/// `ARGV`: 2 `seq`, 3 id, 4 the result's JSON, 5 `1` for an outcome, 6 most attempts kept.
/// Returns 1 when the event exists, else 0.
const DELIVER: &str = r"
local raw = redis.call('HGET', K_EVENTS, ARGV[2])
if not raw or cjson.decode(raw).id ~= ARGV[3] then return 0 end
if ARGV[5] == '1' then
  redis.call('HSET', K_RESULTS, ARGV[2], ARGV[4])
  redis.call('ZREM', K_PENDING, ARGV[2])
else
  local kept = tonumber(redis.call('HGET', K_ATTEMPTS, ARGV[2]) or '0')
  if kept >= tonumber(ARGV[6]) then return 1 end
  redis.call('HINCRBY', K_ATTEMPTS, ARGV[2], 1)
end
redis.call('RPUSH', D .. ARGV[2], ARGV[4])
return 1
";

/// `ARGV`: 2 cutoff (ms). Removes the prefix through the newest event received before it,
/// recording runs of unfinished events as `from to` entries of the expired list (a run that
/// continues the last one extends it). Returns how many events went.
const EXPIRE: &str = r"
if redis.call('EXISTS', K_META) == 0 then return 0 end
local old = redis.call('ZRANGEBYSCORE', K_TIMES, '-inf', '(' .. ARGV[2])
if #old == 0 then return 0 end
local through = 0
for _, s in ipairs(old) do
  local n = tonumber(s)
  if n > through then through = n end
end
local runs = {}
for _, s in ipairs(redis.call('ZRANGEBYSCORE', K_PENDING, '-inf', through)) do
  local n = tonumber(s)
  local last = runs[#runs]
  if last and last[2] + 1 == n then last[2] = n else runs[#runs + 1] = {n, n} end
end
for _, run in ipairs(runs) do
  local tail = redis.call('LINDEX', K_EXPIRED, -1)
  local a, b
  if tail then a, b = string.match(tail, '^(%d+) (%d+)$') end
  if b and tonumber(b) + 1 == run[1] then
    redis.call('LSET', K_EXPIRED, -1, a .. ' ' .. run[2])
  else
    redis.call('RPUSH', K_EXPIRED, run[1] .. ' ' .. run[2])
  end
end
return remove_through(through)
";

/// `ARGV`: 2 token hash (hex). Returns 1 when created, 0 when the id exists or was deleted.
const CREATE: &str = r"
if redis.call('EXISTS', K_META) == 1 or redis.call('EXISTS', K_TOMB) == 1 then return 0 end
redis.call('HSET', K_META, 'token', ARGV[2], 'first', 1, 'bytes', 0)
return 1
";

/// `ARGV`: 2 token hash (hex). Returns 1 when the channel exists.
const SET_TOKEN: &str = r"
if redis.call('EXISTS', K_META) == 0 then return 0 end
redis.call('HSET', K_META, 'token', ARGV[2])
return 1
";

/// Deletes everything under the channel's tag and leaves its tombstone. Returns 1 when the
/// channel existed.
const DELETE: &str = r"
if redis.call('EXISTS', K_META) == 0 then return 0 end
local first = tonumber(redis.call('HGET', K_META, 'first'))
local last = tonumber(redis.call('GET', K_SEQ) or '0')
for s = first, last do redis.call('DEL', D .. s) end
for i = 1, 10 do redis.call('DEL', KEYS[i]) end
redis.call('SET', K_TOMB, 1)
return 1
";

/// The scripts, loaded once per store (`EVALSHA`, falling back to `EVAL`).
pub(super) struct Scripts {
    pub append: redis::Script,
    pub deliver: redis::Script,
    pub expire: redis::Script,
    pub create: redis::Script,
    pub set_token: redis::Script,
    pub delete: redis::Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let script = |body: &str| redis::Script::new(&format!("{PRELUDE}\n{body}"));
        Self {
            append: script(APPEND),
            deliver: script(DELIVER),
            expire: script(EXPIRE),
            create: script(CREATE),
            set_token: script(SET_TOKEN),
            delete: script(DELETE),
        }
    }
}
