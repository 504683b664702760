/**
 * The error of a simulator that could not start.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/**
 * The simulator could not start: unreadable TLS material, invalid options, or the port could
 * not be bound (re-exported by `Simulator`).
 *
 * @internal
 */
export class SimulatorError extends Schema.TaggedError<SimulatorError>("@iocm/simulator/SimulatorError")(
  "SimulatorError",
  {
    reason: Schema.Literals(["Tls", "Options", "Listen"]),
    description: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  override get message(): string {
    return `Simulator failed to start (${this.reason}): ${this.description}`
  }
}
