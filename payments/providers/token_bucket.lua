-- Token bucket shared by every process that calls one provider.
-- KEYS[1]: the bucket (hash: tokens, ts)
-- ARGV[1]: rate (tokens per second), ARGV[2]: burst (capacity), ARGV[3]: tokens wanted
-- Returns 0 when the tokens were taken, otherwise the milliseconds until they would be
-- available (nothing is taken then: the caller waits and asks again).
-- The clock is Redis's own, so processes on machines with skewed clocks agree.
if redis.replicate_commands then
    redis.replicate_commands()
end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
    tokens = burst
    ts = now
end
if now > ts then
    tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
    ts = now
end
local ttl = math.ceil(burst / rate * 1000) + 1000
if tokens >= wanted then
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - wanted), 'ts', tostring(ts))
    redis.call('PEXPIRE', KEYS[1], ttl)
    return 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], ttl)
return math.ceil((wanted - tokens) * 1000 / rate)
