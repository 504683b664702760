/**
 * The failures of the `iocm` command itself; they never leave the process (each becomes a message
 * on stderr and an exit code, see `ExitCode`).
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as Runtime from "effect/Runtime"

/**
 * The fleet's store has no token to give: none was ever stored, or the stored one has expired.
 * `iocm token` then fails, and never logs in, which would invalidate the fleet's token.
 *
 * @internal
 */
export class NoFleetToken extends Data.TaggedError("NoFleetToken")<{
  readonly appId: string
  /** When the stored token expired, epoch ms; absent when the store is empty. */
  readonly expiredAt?: number | undefined
}> {
  override get message(): string {
    const state = this.expiredAt === undefined
      ? `the fleet's store (IOCM_REDIS_URL) holds no token for ${this.appId}`
      : `the token the fleet's store holds for ${this.appId} expired at ${new Date(this.expiredAt).toISOString()}`
    return `${state}: start (or wait for) a process of the fleet, which logs in and stores one. iocm token does not ` +
      "log in beside a fleet, since that would invalidate the fleet's token; unset IOCM_REDIS_URL to log in anyway"
  }
}

/**
 * `iocm doctor` found a step that fails; the report is already printed. Exits with the class of
 * that step's failure.
 *
 * @internal
 */
export class DoctorFailed extends Data.TaggedError("DoctorFailed")<{
  readonly step: string
  readonly code: number
}> {
  override get message(): string {
    return `the doctor's ${this.step} check failed (see above)`
  }

  override get [Runtime.errorExitCode](): number {
    return this.code
  }
}
