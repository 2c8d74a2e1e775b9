/**
 * The Lua script behind the fleet's rate-limit buckets (`redis.ts`), run atomically by Redis on
 * its own clock. One call gives back what an instance owes (unspent allowance, tpm corrections),
 * then, when asked to take, decides the request as an in-process bucket would and grants an
 * allowance: k = max(1, min(want, floor(level / 16))) request tokens (so exactly 1 while the
 * level is below 32) and max(need, min(wantTokens, floor(tokenLevel / 16))) tpm tokens; the
 * request tokens are also capped to the requests the granted tpm tokens can serve.
 */

const LEVEL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, cap)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  if not v[1] then return cap end
  local lv = tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * cap / 60000
  if lv > cap then lv = cap end
  return lv
end
local function save(key, cap, tokens)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', key, math.ceil((cap - tokens) * 60000 / cap) + 1000)
end
`;

/** A grant is at most this fraction of the level (1/16), and more than one token only from level 32 up. */
export const GRANT_DIVISOR = 16;

/**
 * KEYS: request bucket, token bucket.
 * ARGV: rpm (0 = off), tpm (0 = off), tokens needed, take (1) or only give back (0),
 *       request tokens wanted, tpm tokens wanted, request tokens given back, tpm tokens given back
 *       (negative: a correction that takes).
 * Returns: wait for requests (ms), wait for tokens (ms), request level, token level (after the
 * give-back, before the grant), request tokens granted, tpm tokens granted.
 */
export const TAKE = `${LEVEL}
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local take = tonumber(ARGV[4]) == 1
local wantR = tonumber(ARGV[5])
local wantT = tonumber(ARGV[6])
local backR = tonumber(ARGV[7])
local backT = tonumber(ARGV[8])
local rl, tl, wr, wt, kr, kt = 0, 0, 0, 0, 0, 0
if rpm > 0 then
  rl = level(KEYS[1], rpm)
  if backR ~= 0 then rl = math.min(rpm, rl + backR) end
  if take and rl < 1 then wr = math.ceil((1 - rl) * 60000 / rpm) end
end
if tpm > 0 then
  tl = level(KEYS[2], tpm)
  if backT ~= 0 then tl = math.min(tpm, tl + backT) end
  local n = math.min(need, tpm)
  if take and tl < n then wt = math.ceil((n - tl) * 60000 / tpm) end
end
local granted = take and wr == 0 and wt == 0
if granted then
  if rpm > 0 then kr = math.max(1, math.min(wantR, math.floor(rl / ${GRANT_DIVISOR}))) end
  if tpm > 0 then
    kt = math.max(need, math.min(wantT, math.floor(tl / ${GRANT_DIVISOR})))
    if rpm > 0 and need > 0 then kr = math.max(1, math.min(kr, math.floor(kt / need))) end
  end
end
if rpm > 0 and (granted or backR ~= 0) then save(KEYS[1], rpm, rl - kr) end
if tpm > 0 and (granted or backT ~= 0) then save(KEYS[2], tpm, tl - kt) end
return {wr, wt, tostring(rl), tostring(tl), kr, tostring(kt)}
`;
