import type { LimitScope } from './types.js';

/**
 * The Lua scripts of RedisLimitBackend. Each runs atomically inside Redis and reads Redis's clock
 * (`TIME`), so replicas with skewed clocks still agree on windows and periods. Numbers that go
 * back into Redis are formatted with `%.0f` (Lua's default `%.14g` would write 1e+15); amounts
 * that Redis adds (INCRBY) are passed through as the caller's strings. The tpm window arithmetic
 * mirrors sliding-window.ts and the calendar mirrors budget-period.ts (tests compare them); the
 * rpm log mirrors request-log.ts (the contract suite holds both backends to it).
 *
 * Key layout under the prefix P (see docs/limits.md):
 *   P rpm:<scope>            sorted set `<reservation id>:<scope>` → admitted at (ms), the last window;
 *                            a leased block `<lease id>#<g>` → its end (REQUEST_LOG_LUA)
 *   P rpmw:<scope>           counter: the blocks' extra weight (Σ g − 1), expires with the log
 *   P tpm:<scope>:<window>   counter, expires after the next window
 *   P parallel:<scope>       sorted set reservation id → admitted at (ms), expires after a lease
 *   P budget:<scope>:<period> spend in nano-USD, expires a lease after the period; `total` never
 *   P open                   sorted set of unsettled reservation ids → admitted at (ms)
 */

export const CALENDAR_LUA = `
local DAY = 86400000
local function fmt(n) return string.format('%.0f', n) end
local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local function monday_of(days) return days - ((days + 3) % 7) end
local function period_id(period, now)
  if period == 'total' then return 'total' end
  local days = math.floor(now / DAY)
  local y, m, d = civil_from_days(days)
  if period == 'day' then return string.format('%04d-%02d-%02d', y, m, d) end
  if period == 'month' then return string.format('%04d-%02d', y, m) end
  local thursday = monday_of(days) + 3
  local wy = civil_from_days(thursday)
  local week = math.floor((thursday - days_from_civil(wy, 1, 1)) / 7) + 1
  return string.format('%04d-W%02d', wy, week)
end
local function next_period_start(period, now)
  local days = math.floor(now / DAY)
  if period == 'day' then return (days + 1) * DAY end
  if period == 'week' then return (monday_of(days) + 7) * DAY end
  if period == 'month' then
    local y, m = civil_from_days(days)
    if m == 12 then return days_from_civil(y + 1, 1, 1) * DAY end
    return days_from_civil(y, m + 1, 1) * DAY
  end
  return nil
end
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * The rpm request log: a sorted set of admissions (member → Redis ms), in which a leased block of
 * g admissions is one member \`<lease id>#<g>\`; \`P rpmw:<scope>\` holds the sum of g − 1 over the
 * blocks in the set, so the log counts ZCARD + that. A log without blocks is read as before.
 */
const REQUEST_LOG_LUA = `
local function log_weight(member)
  local g = string.match(member, '#(%d+)$')
  if g then return tonumber(g) end
  return 1
end
local function log_trim(key, wkey, cutoff)
  if tonumber(redis.call('GET', wkey) or '0') > 0 then
    local extra = 0
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', cutoff)) do extra = extra + log_weight(member) - 1 end
    if extra > 0 then redis.call('DECRBY', wkey, extra) end
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
end
local function log_count(key, wkey)
  return redis.call('ZCARD', key) + tonumber(redis.call('GET', wkey) or '0')
end
-- The time of the admission that must leave a log of \`live\` for one more to fit under L.
local function log_leaving_at(key, wkey, live, L)
  local need = live - L + 1
  if tonumber(redis.call('GET', wkey) or '0') == 0 then
    return redis.call('ZRANGE', key, need - 1, need - 1, 'WITHSCORES')[2]
  end
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', key, start, start + 127, 'WITHSCORES')
    if #batch == 0 then return nil end
    for i = 1, #batch, 2 do
      need = need - log_weight(batch[i])
      if need <= 0 then return batch[i + 1] end
    end
    start = start + 128
  end
end
`;

const WINDOW_LUA = `
local function fits(cur, prev, e, W, L, a) return (cur + a) * W + prev * (W - e) <= L * W end
local function remaining(cur, prev, e, W, L)
  local r = math.floor((L * W - cur * W - prev * (W - e)) / W)
  if r < 0 then return 0 end
  return r
end
local function first_fitting(fading, room, W)
  local at = W - math.floor(room / fading)
  if fading * (W - at) > room then at = at + 1 end
  return at
end
local function wait_ms(cur, prev, e, W, L, a)
  if a > L then return W end
  if fits(cur, prev, e, W, L, a) then return 0 end
  if cur + a <= L then
    local w = first_fitting(prev, (L - a - cur) * W, W) - e
    if w < 1 then return 1 end
    return w
  end
  return W - e + first_fitting(cur, (L - a) * W, W)
end
`;

/**
 * ARGV: prefix, windowMs, leaseMs, reservation id, tokens, cost nanos, parallel retry ms, total
 * budget retry ms, scope count, then per scope: id, rpm, tpm, max parallel, budget, period ('' =
 * no limit). Returns JSON: {ok, charged, status} or {ok=false, refusal, scope, retry, status}.
 */
const ADMIT_BODY = `
local p, W, lease, id = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local tokens_arg, cost_arg = ARGV[5], ARGV[6]
local tokens, cost = tonumber(tokens_arg), tonumber(cost_arg)
local parallel_retry, total_retry, n = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local now = redis_now()
local idx = math.floor(now / W)
local e = now - idx * W

local function count(key)
  local v = tonumber(redis.call('GET', key) or '0')
  if v > 0 then return v end
  return 0
end

-- Until one more admission fits in a log of live admissions: when the oldest that must leave has left.
local function log_wait_ms(key, wkey, live, L)
  if L < 1 then return W end
  if live < L then return 0 end
  local leaving = log_leaving_at(key, wkey, live, L)
  if leaving == nil then return W end
  local w = tonumber(leaving) + W - now
  if w < 1 then return 1 end
  return w
end

local scopes = {}
local refusal, refused_scope, retry = nil, nil, 0
local function refuse(kind, sid, wait)
  if refusal == nil then refusal, refused_scope = kind, sid end
  if wait > retry then retry = wait end
end

for i = 0, n - 1 do
  local b = 10 + i * 6
  local s = { id = ARGV[b], rpm = tonumber(ARGV[b + 1]), tpm = tonumber(ARGV[b + 2]), par = tonumber(ARGV[b + 3]),
    budget = tonumber(ARGV[b + 4]), period = ARGV[b + 5] }
  if s.rpm then
    s.rpm_key, s.rpmw_key = p .. 'rpm:' .. s.id, p .. 'rpmw:' .. s.id
    log_trim(s.rpm_key, s.rpmw_key, fmt(now - W))
    s.rpm_count = log_count(s.rpm_key, s.rpmw_key)
    if s.rpm_count + 1 > s.rpm then refuse('rpm', s.id, log_wait_ms(s.rpm_key, s.rpmw_key, s.rpm_count, s.rpm)) end
  end
  if s.tpm then
    s.tpm_key = p .. 'tpm:' .. s.id .. ':' .. fmt(idx)
    s.tpm_cur, s.tpm_prev = count(s.tpm_key), count(p .. 'tpm:' .. s.id .. ':' .. fmt(idx - 1))
    if not fits(s.tpm_cur, s.tpm_prev, e, W, s.tpm, tokens) then
      refuse('tpm', s.id, wait_ms(s.tpm_cur, s.tpm_prev, e, W, s.tpm, tokens))
    end
  end
  if s.par then
    s.par_key = p .. 'parallel:' .. s.id
    redis.call('ZREMRANGEBYSCORE', s.par_key, '-inf', fmt(now - lease))
    if redis.call('ZCARD', s.par_key) + 1 > s.par then refuse('parallel', s.id, parallel_retry) end
  end
  if s.budget then
    s.period_id = period_id(s.period, now)
    s.budget_key = p .. 'budget:' .. s.id .. ':' .. s.period_id
    if tonumber(redis.call('GET', s.budget_key) or '0') + cost > s.budget then
      local next_start = next_period_start(s.period, now)
      refuse('budget', s.id, next_start and (next_start - now) or total_retry)
    end
  end
  scopes[i + 1] = s
end

local function status(charged)
  local st = { reset_requests = 0, reset_tokens = 0 }
  local amount = tokens
  if amount < 1 then amount = 1 end
  for _, s in ipairs(scopes) do
    if s.rpm then
      -- After a charge the log already holds this admission.
      local live = s.rpm_count
      if charged then live = live + 1 end
      local r = s.rpm - live
      if r < 0 then r = 0 end
      if st.remaining_requests == nil or r < st.remaining_requests then st.remaining_requests, st.limit_requests = r, s.rpm end
      local w = log_wait_ms(s.rpm_key, s.rpmw_key, live, s.rpm)
      if w > st.reset_requests then st.reset_requests = w end
    end
    if s.tpm then
      local cur = s.tpm_cur
      if charged then cur = cur + tokens end
      local r = remaining(cur, s.tpm_prev, e, W, s.tpm)
      if st.remaining_tokens == nil or r < st.remaining_tokens then st.remaining_tokens, st.limit_tokens = r, s.tpm end
      local w = wait_ms(cur, s.tpm_prev, e, W, s.tpm, amount)
      if w > st.reset_tokens then st.reset_tokens = w end
    end
  end
  return st
end

if refusal then
  return cjson.encode({ ok = false, refusal = refusal, scope = refused_scope, retry = retry, status = status(false) })
end

local window_end = fmt((idx + 2) * W + 1000)
local charged = { ['@backend'] = 'redis' }
for _, s in ipairs(scopes) do
  if s.rpm then
    redis.call('ZADD', s.rpm_key, fmt(now), id .. ':' .. s.id)
    -- Two windows: leased entries are dated up to a window ahead (LEASE_LUA).
    redis.call('PEXPIRE', s.rpm_key, fmt(2 * W))
    redis.call('PEXPIRE', s.rpmw_key, fmt(2 * W))
    charged['rpm:' .. s.id] = fmt(now)
  end
  if s.tpm then
    redis.call('INCRBY', s.tpm_key, tokens_arg)
    redis.call('PEXPIREAT', s.tpm_key, window_end)
    charged['tpm:' .. s.id] = fmt(idx)
  end
  if s.par then
    redis.call('ZADD', s.par_key, fmt(now), id)
    redis.call('PEXPIRE', s.par_key, fmt(lease))
    charged['parallel:' .. s.id] = '1'
  end
  if s.budget then
    redis.call('INCRBY', s.budget_key, cost_arg)
    local next_start = next_period_start(s.period, now)
    if next_start then redis.call('PEXPIREAT', s.budget_key, fmt(next_start + lease)) end
    charged['budget:' .. s.id] = s.period_id
  end
end
local open = p .. 'open'
redis.call('ZREMRANGEBYSCORE', open, '-inf', fmt(now - lease))
redis.call('ZADD', open, fmt(now), id)
redis.call('PEXPIRE', open, fmt(lease))
return cjson.encode({ ok = true, charged = charged, status = status(true) })
`;

/**
 * Settles a batch of reservations (src/guard/limits/redis-settlements.ts). KEYS[1]: the open set;
 * then, per reservation, the counters it was charged to and the parallel sets it holds a slot in.
 * ARGV[1]: how many reservations; then, per reservation: its id, the number of counters n, the
 * number of parallel sets m, and n deltas for the counters. A reservation no longer open (settled,
 * or its lease expired) changes nothing; a counter that has expired is not brought back. Returns
 * how many reservations were settled.
 */
export const SETTLE_LUA = `
local k = 2
local a = 2
local settled = 0
for r = 1, tonumber(ARGV[1]) do
  local id = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  local m = tonumber(ARGV[a + 2])
  a = a + 3
  if redis.call('ZREM', KEYS[1], id) == 1 then
    settled = settled + 1
    for i = 0, n - 1 do
      local delta = ARGV[a + i]
      if delta ~= '0' and redis.call('EXISTS', KEYS[k + i]) == 1 then redis.call('INCRBY', KEYS[k + i], delta) end
    end
    for i = n, n + m - 1 do redis.call('ZREM', KEYS[k + i], id) end
  end
  k = k + n + m
  a = a + n
end
return settled
`;

/** ARGV: prefix, scope id, period. Returns the current period's spend as a string, or nil. */
const SPEND_BODY = `
return redis.call('GET', ARGV[1] .. 'budget:' .. ARGV[2] .. ':' .. period_id(ARGV[3], redis_now()))
`;

/** ARGV: prefix, scope id, period, nanos, leaseMs. Sets the current period's spend unless it is known. */
const SEED_BODY = `
local now = redis_now()
local key = ARGV[1] .. 'budget:' .. ARGV[2] .. ':' .. period_id(ARGV[3], now)
local next_start = next_period_start(ARGV[3], now)
if next_start then return redis.call('SET', key, ARGV[4], 'PXAT', fmt(next_start + tonumber(ARGV[5])), 'NX') end
return redis.call('SET', key, ARGV[4], 'NX')
`;

/**
 * Admits a batch of requests one after the other (src/guard/limits/redis-admissions.ts), each as
 * ADMIT_BODY would alone, each seeing the ones before it. ARGV[1]: how many; then per admission
 * the number of its arguments and the arguments ADMIT_BODY takes. Returns one string per
 * admission: ADMIT_BODY's JSON answer, or `{"error": …}` when that admission raised an error.
 * Each runs in pcall, so that an error fails that admission alone, as if it had been its own call
 * (Redis has no rollback: what it wrote before the error stays, as it would have then).
 */
const ADMIT_BATCH_BODY = `
local function admit_one(ARGV)
${ADMIT_BODY}
end
local answers, at = {}, 2
for j = 1, tonumber(ARGV[1]) do
  local len = tonumber(ARGV[at])
  local ok, answer = pcall(admit_one, { unpack(ARGV, at + 1, at + len) })
  if ok then answers[j] = answer else answers[j] = cjson.encode({ error = tostring(answer) }) end
  at = at + len + 1
end
return answers
`;

/**
 * Grants, returns and corrects the blocks of limits that replicas lease (src/guard/limits/leases.ts,
 * docs/limits.md#leases). A block is charged like that many admissions: \`rpm\` slots as one log
 * entry of that weight dated at the lease's end (now + ttl), so each counts at least as long as
 * the admission that uses it; tokens to the current \`tpm\` window; nano-USD to the budget's period; parallel
 * slots as members of the parallel set. A grant takes at most a sixteenth of the room a limit has
 * left (LEASE_SHARE), and none when that is less than the least the replica asks for (16
 * requests' worth): near a limit blocks shrink, then stop, and admissions go one by one again.
 *
 * ARGV: prefix, windowMs, leaseMs (abandonment), ttl; then five lists, each its length followed
 * by its items:
 *   deltas            key, amount           INCRBY where the key still exists (settlements, returns)
 *   rpm returns       key, lease id, used + 1, granted  the block's entry \`<lease id>#<granted>\` weighs
 *                     \`used\` from now on (removed if 0)
 *   parallel returns  key, member           ZREM
 *   parallel refresh  key, member           ZADD XX now (a held slot is not abandoned)
 *   grants            scope id, rpm, tpm, max parallel, budget, period, lease id, want requests,
 *                     want tokens, want nanos, want parallel, least requests, least tokens, least nanos
 * Returns JSON: one object per grant, in order: \`ok\` (false: no block was asked for — want
 * requests 0 — or the scope's room is too small for one; nothing charged but parallel slots), \`req\`, \`tok\`, \`nanos\`, \`par\` (granted), \`win\`
 * (the tpm window), \`win_left\` and \`period_left\` (ms until they end; -1 for a total budget),
 * \`period\` (the period id), \`rr\` and \`rt\` (requests and tokens left after the grant).
 */
const LEASE_BODY = `
local LEASE_SHARE = 16
local p, W, lease, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = redis_now()
local idx = math.floor(now / W)
local e = now - idx * W
local at = 5
local function list(width, each)
  local n = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, n do
    each(at)
    at = at + width
  end
end
local function chunked(cmd, key, prefix_args, from, to, member)
  local args, count = {}, 0
  for i = from, to do
    for _, a in ipairs(prefix_args) do args[#args + 1] = a end
    args[#args + 1] = member(i)
    count = count + 1
    if count == 200 or i == to then
      redis.call(cmd, key, unpack(args))
      args, count = {}, 0
    end
  end
end
local function count(key)
  local v = tonumber(redis.call('GET', key) or '0')
  if v > 0 then return v end
  return 0
end

list(2, function(b)
  if redis.call('EXISTS', ARGV[b]) == 1 then redis.call('INCRBY', ARGV[b], ARGV[b + 1]) end
end)
list(4, function(b)
  -- A block that used \`used\` of its \`granted\` admissions keeps its time and weighs \`used\`.
  local key, lid, used, granted = ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]) - 1, tonumber(ARGV[b + 3])
  local wkey = p .. 'rpmw:' .. string.sub(key, #p + 5)
  local member = lid .. '#' .. granted
  local dated = redis.call('ZSCORE', key, member)
  if dated and used < granted then
    redis.call('ZREM', key, member)
    local lighter = granted - 1
    if used > 0 then
      redis.call('ZADD', key, dated, lid .. '#' .. used)
      lighter = granted - used
    end
    if lighter > 0 then redis.call('DECRBY', wkey, lighter) end
  end
end)
list(2, function(b) redis.call('ZREM', ARGV[b], ARGV[b + 1]) end)
list(2, function(b) redis.call('ZADD', ARGV[b], 'XX', fmt(now), ARGV[b + 1]) end)

local answers = {}
list(14, function(b)
  local id, rpm, tpm, par, budget, period = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), ARGV[b + 5]
  local lid = ARGV[b + 6]
  local want_req, want_tok, want_nanos, want_par = tonumber(ARGV[b + 7]), tonumber(ARGV[b + 8]), tonumber(ARGV[b + 9]), tonumber(ARGV[b + 10])
  local least_req, least_tok, least_nanos = tonumber(ARGV[b + 11]), tonumber(ARGV[b + 12]), tonumber(ARGV[b + 13])
  local g = { ok = true, req = 0, tok = 0, nanos = 0, par = 0, win = idx, win_left = W - e, period_left = -1 }
  local rpm_key, rpmw_key, tpm_key, budget_key, cur, prev, rpm_room
  -- want_req 0: only parallel slots are asked for.
  if want_req < 1 then g.ok = false end
  if rpm and g.ok then
    rpm_key, rpmw_key = p .. 'rpm:' .. id, p .. 'rpmw:' .. id
    log_trim(rpm_key, rpmw_key, fmt(now - W))
    rpm_room = rpm - log_count(rpm_key, rpmw_key)
    g.req = math.min(want_req, math.floor(rpm_room / LEASE_SHARE))
    if g.req < least_req or g.req < 1 then g.ok = false end
  end
  if tpm and g.ok then
    tpm_key = p .. 'tpm:' .. id .. ':' .. fmt(idx)
    cur, prev = count(tpm_key), count(p .. 'tpm:' .. id .. ':' .. fmt(idx - 1))
    g.tok = math.min(want_tok, math.floor(remaining(cur, prev, e, W, tpm) / LEASE_SHARE))
    if g.tok < least_tok or g.tok < 1 then g.ok = false end
  end
  if budget and g.ok then
    g.period = period_id(period, now)
    budget_key = p .. 'budget:' .. id .. ':' .. g.period
    g.nanos = math.min(want_nanos, math.floor((budget - tonumber(redis.call('GET', budget_key) or '0')) / LEASE_SHARE))
    if g.nanos < least_nanos or g.nanos < 0 then g.ok = false end
    local next_start = next_period_start(period, now)
    if next_start then g.period_left = next_start - now end
  end
  if g.ok then
    if rpm then
      -- The whole block is one entry of weight g.req.
      redis.call('ZADD', rpm_key, fmt(now + ttl), lid .. '#' .. g.req)
      if g.req > 1 then redis.call('INCRBY', rpmw_key, g.req - 1) end
      redis.call('PEXPIRE', rpm_key, fmt(2 * W))
      redis.call('PEXPIRE', rpmw_key, fmt(2 * W))
      g.rr = rpm_room - g.req
    end
    if tpm then
      redis.call('INCRBY', tpm_key, fmt(g.tok))
      redis.call('PEXPIREAT', tpm_key, fmt((idx + 2) * W + 1000))
      g.rt = remaining(cur + g.tok, prev, e, W, tpm)
    end
    if budget and g.nanos > 0 then
      redis.call('INCRBY', budget_key, fmt(g.nanos))
      if g.period_left >= 0 then redis.call('PEXPIREAT', budget_key, fmt(now + g.period_left + lease)) end
    end
  else
    g.req, g.tok, g.nanos = 0, 0, 0
  end
  if par and want_par > 0 then
    local par_key = p .. 'parallel:' .. id
    redis.call('ZREMRANGEBYSCORE', par_key, '-inf', fmt(now - lease))
    g.par = math.min(want_par, math.floor((par - redis.call('ZCARD', par_key)) / LEASE_SHARE))
    if g.par > 0 then
      chunked('ZADD', par_key, { fmt(now) }, 1, g.par, function(i) return lid .. ':p' .. i end)
      redis.call('PEXPIRE', par_key, fmt(lease))
    else
      g.par = 0
    end
  end
  answers[#answers + 1] = g
end)
return cjson.encode(answers)
`;

/**
 * A scope as ADMIT_BODY and LEASE_BODY take it in ARGV: id, rpm, tpm, max parallel, budget
 * (nano-USD), period; '' for a limit the scope does not have.
 */
export function scopeArgs(scope: LimitScope): string[] {
  return [scope.id, limitArg(scope.rpm), limitArg(scope.tpm), limitArg(scope.maxParallel), limitArg(scope.budgetNanos), scope.budgetPeriod];
}

function limitArg(value: number | null): string {
  return value === null ? '' : String(value);
}

export const ADMIT_BATCH_LUA = CALENDAR_LUA + WINDOW_LUA + REQUEST_LOG_LUA + ADMIT_BATCH_BODY;
export const LEASE_LUA = CALENDAR_LUA + WINDOW_LUA + REQUEST_LOG_LUA + LEASE_BODY;
export const SPEND_LUA = CALENDAR_LUA + SPEND_BODY;
export const SEED_SPEND_LUA = CALENDAR_LUA + SEED_BODY;
/** For tests: the window arithmetic alone, to compare with sliding-window.ts. */
export const WINDOW_MATH_LUA = WINDOW_LUA;
/** For tests: the request log's functions (weighted block entries). */
export const REQUEST_LOG_MATH_LUA = REQUEST_LOG_LUA;
