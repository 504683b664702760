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
 * `"10 seconds"`; malformed input (`"Infinity"` included) is `None`, a negative duration is zero.
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
  // Effect 4 also reads "Infinity" and "-Infinity"; a duration typed by a person must be a number and a unit.
  return text === "Infinity" || text === "-Infinity" ? Option.none() : decode(text as Duration.Input)
}

/**
 * Decodes a `Duration.Input` without throwing; a negative duration is zero (as Effect 3 decoded
 * it: Effect 4 keeps the sign).
 *
 * @internal
 */
export const decode = (input: Duration.Input): Option.Option<Duration.Duration> =>
  Duration.fromInput(input).pipe(Option.map((d) => Duration.isNegative(d) ? Duration.zero : d))
