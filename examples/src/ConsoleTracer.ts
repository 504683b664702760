/**
 * A tracer that prints each span as it ends, one line on stdout — what an OpenTelemetry console
 * exporter shows, with no SDK: `span <name> <ms> ms trace=<id> span=<id> parent=<id|root>
 * links=<ids> {attributes}` (ids shortened to 8 characters).
 */
import { Layer, Option, Tracer } from "effect"

/** The first 8 characters of an id. */
const short = (id: string): string => id.slice(0, 8)

/** The line of an ended span. */
export const describeSpan = (span: Tracer.Span, endTime: bigint): string => {
  const millis = Number(endTime - span.status.startTime) / 1e6
  const parent = Option.match(span.parent, { onNone: () => "root", onSome: (p) => short(p.spanId) })
  const links = span.links.map((link) => short(link.span.spanId)).join(",")
  return `span ${span.name} ${millis.toFixed(1)} ms trace=${short(span.traceId)} span=${
    short(span.spanId)
  } parent=${parent}${links === "" ? "" : ` links=${links}`} ${JSON.stringify(Object.fromEntries(span.attributes))}`
}

/** Effect's native span, printed when it ends. */
class PrintedSpan extends Tracer.NativeSpan {
  override end(endTime: bigint, exit: Parameters<Tracer.NativeSpan["end"]>[1]): void {
    const open = this.status._tag !== "Ended"
    super.end(endTime, exit)
    if (open) process.stdout.write(`${describeSpan(this, endTime)}\n`)
  }
}

/** The tracer of this module, as a layer. */
export const layer: Layer.Layer<never> = Layer.succeed(
  Tracer.Tracer,
  Tracer.make({ span: (options) => new PrintedSpan(options) })
)
