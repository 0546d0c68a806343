"""The Lua script behind ``RedisRateLimit``: one hash per key, changed atomically on Redis.

Everything runs on Redis's own clock (``TIME``), so the hosts' clocks never meet. Fields:

- ``tat``/``interval``: a GCRA bucket. Each request books its moment and is told how long
  to wait for it: one round trip.
- ``queue``: where the requests told to come back later stand in line. A request due beyond
  ``HORIZON`` books nothing (a process that dies with slots booked wastes no more than that);
  it gets a place in line and the time to come back, then books with its ticket whatever the
  queue: **at most two round trips per request**, however many wait.
- ``pause``: when a refusal anywhere pauses every process; pausing moves ``tat`` (every slot
  booked so far) past the pause's end.
- ``limit``/``burst``: the limit learned from ``X-RateLimit-Limit``.

A value that is not a finite number (a corrupt hash) counts as absent and is overwritten.
"""

from __future__ import annotations

__all__ = ["HORIZON", "KEY_TTL_MS", "SCRIPT"]

HORIZON = 5.0
"""Seconds ahead a request may book; one due later comes back when it is that close."""
KEY_TTL_MS = 3_600_000

SCRIPT = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(value, default)
  local n = tonumber(value)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return default end
  return n
end
local op = ARGV[1]
if op == 'pause' then
  local h = redis.call('HMGET', key, 'pause', 'tat')
  local want = now + num(ARGV[2], 0)
  local cur = num(h[1], 0)
  if want > cur then
    local tat = num(h[2], now)
    if tat < now then tat = now end
    -- every slot booked so far moves past the new end
    tat = tat + want - math.max(cur, now)
    redis.call('HSET', key, 'pause', tostring(want), 'tat', tostring(tat))
  else
    want = cur
  end
  redis.call('PEXPIRE', key, KEY_TTL)
  return tostring(want - now)
end
if op == 'learn' then
  local limit, burst = num(ARGV[2], 0), num(ARGV[3], 0)
  if limit > 0 and burst >= 1 then
    redis.call('HSET', key, 'limit', tostring(limit), 'burst', tostring(burst))
    redis.call('PEXPIRE', key, KEY_TTL)
  end
  return 'ok'
end
local h = redis.call('HMGET', key, 'tat', 'interval', 'pause', 'limit', 'burst', 'queue')
local limit, burst = num(h[4], 0), num(h[5], 0)
if limit <= 0 or burst < 1 then limit, burst = 0, 0 end
local shown_limit, shown_burst = '', ''
if limit > 0 then shown_limit, shown_burst = tostring(limit), tostring(burst) end
local pause = num(h[3], 0)
if pause > now then return {'pause', tostring(pause - now), shown_limit, shown_burst} end
local per_minute, cap = num(ARGV[2], 0), num(ARGV[3], 0)
local probing = false
if per_minute > 0 and limit > 0 then
  per_minute, cap = math.min(per_minute, limit), math.min(cap, burst)
elseif per_minute <= 0 then
  per_minute, cap = limit, burst
  if per_minute <= 0 then
    probing, per_minute, cap = true, num(ARGV[4], 60), num(ARGV[5], 6)
  end
end
local interval = 60 / per_minute
local room = 0
-- One token of the burst is kept in reserve against network jitter (burst 1: 3% slower).
if cap > 1 then room = (cap - 2) * interval else interval = interval / 0.97 end
local tat = num(h[1], now)
local used = num(h[2], 0)
-- A new limit rescales the queue already booked, so it takes effect at once.
if used > 0 and used ~= interval and tat > now then tat = now + (tat - now) * interval / used end
if tat < now then tat = now end
local delay = tat - room - now
if delay < 0 then delay = 0 end
if probing and delay > 0 then return {'wait', tostring(delay), '', ''} end
if delay > HORIZON and ARGV[6] ~= 'ticket' then
  local place = num(h[6], 0)
  if place < tat then place = tat end
  redis.call('HSET', key, 'queue', tostring(place + interval))
  redis.call('PEXPIRE', key, KEY_TTL)
  return {'wait', tostring(place - room - now - HORIZON), shown_limit, shown_burst}
end
redis.call('HSET', key, 'tat', tostring(tat + interval), 'interval', tostring(interval))
redis.call('PEXPIRE', key, KEY_TTL)
return {'go', tostring(delay), shown_limit, shown_burst}
""".replace("KEY_TTL", str(KEY_TTL_MS)).replace("HORIZON", repr(HORIZON))
