/**
 * A tracer and a logger that keep what they see, to check spans, attributes and log lines.
 */
import { Logger, Option, Tracer } from "effect"
import type { Context, Exit } from "effect"

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
    span(name, parent, context: Context.Context<never>, links, startTime, kind) {
      const captured: CapturedSpan = { name, attributes: new Map(), parent, exit: undefined }
      spans.push(captured)
      const spanId = `span-${++ids}`
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId,
        traceId: Option.match(parent, { onNone: () => `trace-${ids}`, onSome: (p) => p.traceId }),
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: captured.attributes,
        links: [...links],
        sampled: true,
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
    },
    context: (f) => f()
  })
  return { tracer, spans }
}

export interface CapturedLog {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

export const logger = () => {
  const logs: Array<CapturedLog> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    logs.push({
      level: logLevel.label,
      message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
      annotations: Object.fromEntries(annotations)
    })
  })
  return { logger, logs, layer: Logger.add(logger) }
}
