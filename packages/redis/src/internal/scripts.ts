/**
 * The Lua scripts of the store, each one atomic on the server and run by `EVALSHA` (loaded once,
 * reloaded after a `NOSCRIPT`). Every key a script touches is passed in `KEYS`, and the keys of one
 * appId share a hash tag, so each script stays in one slot of a Redis Cluster.
 *
 * @internal
 */
import * as Redis from "effect/persistence/Redis"

/**
 * Takes the lease (`SET lease owner NX PX ttl`): `[1, 0]` when granted, else `[0, pttl]` with the
 * milliseconds the holder's lease has left (-1 when it has no expiry).
 */
export const acquire = Redis.script((lease: string, owner: string, ttlMillis: number) => [lease, owner, ttlMillis], {
  numberOfKeys: 1,
  lua: `
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then return {1, 0} end
return {0, redis.call("PTTL", KEYS[1])}`
}).withReturnType<readonly [number, number]>()

/** Extends the lease by `ttl` when `owner` still holds it: 1, else 0. */
export const extend = Redis.script((lease: string, owner: string, ttlMillis: number) => [lease, owner, ttlMillis], {
  numberOfKeys: 1,
  lua: `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0`
}).withReturnType<number>()

/** Deletes the lease when `owner` still holds it and publishes `r` (released) to wake waiters: 1, else 0. */
export const release = Redis.script((lease: string, owner: string, channel: string) => [lease, owner, channel], {
  numberOfKeys: 1,
  lua: `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("DEL", KEYS[1])
redis.call("PUBLISH", ARGV[2], "r")
return 1`
}).withReturnType<number>()

/**
 * Writes `record` as generation `generation` only when that is above the stored one, and publishes
 * `c:<generation>` in the same step: `[1, generation]` when written, `[0, stored]` when refused.
 */
export const commit = Redis.script(
  (token: string, generation: number, record: string, channel: string) => [token, generation, record, channel],
  {
    numberOfKeys: 1,
    lua: `
local stored = tonumber(redis.call("HGET", KEYS[1], "gen") or "-1")
local generation = tonumber(ARGV[1])
if generation <= stored then return {0, stored} end
redis.call("HSET", KEYS[1], "gen", ARGV[1], "record", ARGV[2])
redis.call("PUBLISH", ARGV[3], "c:" .. ARGV[1])
return {1, generation}`
  }
).withReturnType<readonly [number, number]>()

/**
 * Takes a slot of a sliding-window budget on the server's clock: drops the calls older than
 * `windowMillis`, then grants (adds `member` at now, answers 0) if fewer than `limit` remain, else
 * answers the milliseconds until the oldest of them leaves the window.
 */
export const takeSlot = Redis.script(
  (log: string, limit: number, windowMillis: number, member: string) => [log, limit, windowMillis, member],
  {
    numberOfKeys: 1,
    lua: `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
if redis.call("ZCARD", KEYS[1]) < tonumber(ARGV[1]) then
  redis.call("ZADD", KEYS[1], now, ARGV[3])
  redis.call("PEXPIRE", KEYS[1], window)
  return 0
end
local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
return math.max(1, tonumber(oldest[2]) + window - now)`
  }
).withReturnType<number>()
