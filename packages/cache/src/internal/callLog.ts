/**
 * The calls taken from a budget as a sliding log: a slot is granted while fewer than `limit`
 * calls were granted in the last `windowMillis` — whatever the window's start, so that a platform
 * counting in fixed windows of its own (aligned to its first call, or to the clock) never sees more
 * than `limit`. Pure: `(log, now) → [decision, log]`.
 *
 * @internal
 */

/** The times, ascending, of the calls granted within the window. */
export type Log = ReadonlyArray<number>

/** A slot granted (`0`), or the milliseconds until the oldest call in the window leaves it. */
export type Decision = number

/** Takes a slot at `now` if the window has room. */
export const take = (log: Log, now: number, limit: number, windowMillis: number): readonly [Decision, Log] => {
  const live = log.filter((at) => at > now - windowMillis)
  if (live.length < limit) return [0, [...live, now]]
  return [Math.max(1, live[0]! + windowMillis - now), live]
}
