/**
 * Where the command line's lines go. stdout carries what was asked for: the banner, or with
 * `--json` the ready line and nothing else. Log lines and notices join the banner on stdout, or go
 * to stderr with `--json`; an unexpected failure is reported on stderr either way. Every line goes
 * through Effect's `Console`, so a test can capture them.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"

const textOf = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => typeof part === "string" ? part : String(part))
    .join(" ")

/** One compact line per entry: time, level, message. */
const lineLogger = (json: boolean) =>
  Logger.make(({ date, fiber, logLevel, message }) => {
    const console = fiber.getRef(Console.Console)
    const line = `${date.toISOString()} ${logLevel.toUpperCase().padEnd(5)} ${textOf(message)}`
    if (json) console.error(line)
    else console.log(line)
  })

/**
 * The CLI's only logger, in place of Effect's default one (which writes to stdout): on stderr
 * with `--json`, on stdout beside the banner otherwise.
 *
 * @internal
 */
export const layerLogger = (json: boolean): Layer.Layer<never> => Logger.layer([lineLogger(json)])

/**
 * Prints a notice ("simulator stopped"): on stderr with `--json`, on stdout otherwise.
 *
 * @internal
 */
export const notice = (json: boolean) => (text: string): Effect.Effect<void> =>
  json ? Console.error(text) : Console.log(text)

/**
 * Reports an unexpected failure (a defect) on stderr, in every mode: with `--json` a report on
 * stdout would break its one line. Interruption (Ctrl-C, SIGTERM) is the normal stop, not reported.
 *
 * @internal
 */
export const reportUnexpected = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Cause.hasInterruptsOnly(cause) ? Effect.void : Console.error(`simulator: unexpected failure\n${Cause.pretty(cause)}`)
