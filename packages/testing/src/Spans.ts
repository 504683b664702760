/**
 * A tracer that keeps what it sees, to check span names, attributes, parents and exits.
 *
 * @since 0.0.0
 */
import type { Exit } from "effect"
import { Option, Tracer } from "effect"

/**
 * A span as kept by {@link capture}.
 *
 * @since 0.0.0
 * @category models
 */
export interface CapturedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly links: ReadonlyArray<Tracer.SpanLink>
  /** The span the tracer handed out: what a child's `parent`, or a link, refers to. */
  span: Tracer.Span | undefined
  exit: Exit.Exit<unknown, unknown> | undefined
}

/**
 * Spans kept in memory, and the tracer that keeps them (provide it with `Effect.withTracer`).
 *
 * @since 0.0.0
 * @category models
 */
export interface Capture {
  readonly tracer: Tracer.Tracer
  readonly spans: ReadonlyArray<CapturedSpan>
}

const traceIdOf = (parent: Option.Option<Tracer.AnySpan>, id: number): string =>
  Option.match(parent, { onNone: () => `trace-${id}`, onSome: (span) => span.traceId })

/**
 * Starts capturing: every span the tracer opens is kept, its exit set when it ends.
 *
 * @since 0.0.0
 * @category constructors
 */
export const capture = (): Capture => {
  const spans: Array<CapturedSpan> = []
  let ids = 0
  const tracer = Tracer.make({
    span({ annotations, kind, links, name, parent, sampled, startTime }) {
      const captured: CapturedSpan = {
        name,
        attributes: new Map(),
        parent,
        links: [...links],
        span: undefined,
        exit: undefined
      }
      spans.push(captured)
      const id = ++ids
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${id}`,
        traceId: traceIdOf(parent, id),
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
      captured.span = span
      return span
    }
  })
  return { tracer, spans }
}
