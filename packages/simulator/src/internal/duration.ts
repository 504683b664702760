/**
 * Human duration parsing for the CLI and the control API.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

const units: Record<string, (n: number) => Duration.Duration> = {
  ms: Duration.millis,
  s: Duration.seconds,
  m: Duration.minutes,
  h: Duration.hours,
  d: Duration.days
}

/**
 * Parses `"90"` (seconds), `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"30d"` or Effect's own
 * `"10 seconds"`; negative or malformed input is `None`.
 *
 * @internal
 */
export const parse = (input: string): Option.Option<Duration.Duration> => {
  const text = input.trim()
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text)
  if (short !== null) {
    const value = Number(short[1])
    return Option.some((units[short[2] ?? "s"] ?? Duration.seconds)(value))
  }
  return Duration.decodeUnknown(text).pipe(
    Option.filter((d) => Duration.greaterThanOrEqualTo(d, Duration.zero))
  )
}

/**
 * Decodes a `DurationInput` without throwing; negative durations are `None`.
 *
 * @internal
 */
export const decode = (input: Duration.DurationInput): Option.Option<Duration.Duration> =>
  Duration.decodeUnknown(input).pipe(Option.filter((d) => Duration.greaterThanOrEqualTo(d, Duration.zero)))
