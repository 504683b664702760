/**
 * A tracer and a logger that keep what they see, to check spans, attributes and log lines.
 */
import { Logger, Option, References, Tracer } from "effect"
import type { Exit } from "effect"

export interface CapturedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly parent: Option.Option<Tracer.AnySpan>
  exit: Exit.Exit<unknown, unknown> | undefined
}

export const tracer = () => {
  const spans: Array<CapturedSpan> = []
  let ids = 0
  const tracer = Tracer.make({
    span({ annotations, kind, links, name, parent, sampled, startTime }) {
      const captured: CapturedSpan = { name, attributes: new Map(), parent, exit: undefined }
      spans.push(captured)
      const spanId = `span-${++ids}`
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId,
        traceId: Option.match(parent, { onNone: () => `trace-${ids}`, onSome: (p) => p.traceId }),
        parent,
        annotations,
        status: { _tag: "Started", startTime },
        attributes: captured.attributes,
        links: [...links],
        sampled,
        kind,
        end(_endTime, exit) {
          captured.exit = exit
        },
        attribute(key, value) {
          captured.attributes.set(key, value)
        },
        event() {},
        addLinks() {}
      }
      return span
    }
  })
  return { tracer, spans }
}

export interface CapturedLog {
  /** The level as Effect 3 printed it: `INFO`, `WARN`, `ERROR`, `DEBUG`. */
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

/** A logger that keeps every line; its `layer` replaces the other loggers, so tests stay quiet. */
export const logger = () => {
  const logs: Array<CapturedLog> = []
  const logger = Logger.make(({ fiber, logLevel, message }) => {
    logs.push({
      level: logLevel.toUpperCase(),
      message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
      annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return { logger, logs, layer: Logger.layer([logger]) }
}
