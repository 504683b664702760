/**
 * Log lines in tests: dropped, or kept to be asserted on — never printed. Effect's default logger
 * writes to the console of the fiber (`it.effect` gives it a `TestConsole`; `it.live` the real one),
 * and Effect 4 has no global switch for it, so a test that runs the library live provides one of
 * these layers. Both replace the current loggers for the effect they are provided to and every fiber
 * it forks, a layer's background fibers included.
 *
 * @since 0.0.0
 */
import type { Layer } from "effect"
import { Logger, References } from "effect"

/**
 * No logger at all: every line is dropped.
 *
 * @since 0.0.0
 * @category layers
 */
export const silent: Layer.Layer<never> = Logger.layer([])

/**
 * A log line as kept by {@link capture}.
 *
 * @since 0.0.0
 * @category models
 */
export interface CapturedLog {
  /** The level in capitals: `INFO`, `WARN`, `ERROR`, `DEBUG`. */
  readonly level: string
  /** The message's parts, printed and joined with spaces. */
  readonly message: string
  readonly annotations: Record<string, unknown>
}

/**
 * Logs kept in memory, and the layer that keeps them (instead of printing them).
 *
 * @since 0.0.0
 * @category models
 */
export interface Capture {
  readonly logs: ReadonlyArray<CapturedLog>
  /** The messages only, in order. */
  readonly messages: () => ReadonlyArray<string>
  readonly layer: Layer.Layer<never>
}

const printed = (message: unknown): string => (Array.isArray(message) ? message : [message]).map(String).join(" ")

/**
 * Starts capturing: provide `layer`, then read `logs`.
 *
 * @since 0.0.0
 * @category constructors
 */
export const capture = (): Capture => {
  const logs: Array<CapturedLog> = []
  const logger = Logger.make(({ fiber, logLevel, message }) => {
    logs.push({
      level: logLevel.toUpperCase(),
      message: printed(message),
      annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return { logs, messages: () => logs.map((log) => log.message), layer: Logger.layer([logger]) }
}
