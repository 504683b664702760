/**
 * An in-memory `IocmAuth` for the timing tests: scripted answers, counters, a latency slept on the
 * `Clock` (so `TestClock` drives it), and a hook called with every token it issues.
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmError from "@iocm/core/IocmError"
import { TokenSet } from "@iocm/core/TokenSet"
import { Clock, Duration, Effect, Layer, Option, Redacted } from "effect"

/** What the next login or refresh does. */
export type Outcome =
  | { readonly _tag: "Ok"; readonly expiresIn?: number; readonly refreshToken?: boolean }
  | { readonly _tag: "Fail"; readonly error: IocmError.RefreshError }
  | { readonly _tag: "Die" }

export const ok = (options: { readonly expiresIn?: number; readonly refreshToken?: boolean } = {}): Outcome => ({
  _tag: "Ok",
  ...options
})
export const fail = (error: IocmError.RefreshError): Outcome => ({ _tag: "Fail", error })

export interface Call {
  readonly operation: "login" | "refresh"
  /** Clock time when the request was sent. */
  readonly at: number
  /** The refresh token sent, for refreshes. */
  readonly refreshToken?: string
}

export interface FakeAuth {
  readonly layer: Layer.Layer<IocmAuth.IocmAuth>
  readonly service: IocmAuth.Service
  readonly calls: Array<Call>
  readonly logins: () => number
  readonly refreshes: () => number
  /** Calls that were interrupted before they answered. */
  readonly interrupted: () => number
  readonly maxInFlight: () => number
  /** Answers of the next logins (in order; afterwards `ok()`), or a function of the call number. */
  login: (n: number) => Outcome
  refresh: (n: number, refreshToken: string) => Outcome
  latency: Duration.Input
  expiresIn: number
  /** The token issued last. */
  lastAccessToken: string | undefined
  /** Called with every access token issued. */
  onIssue: (accessToken: string) => void
}

export const transport = () => new IocmError.TransportError({ code: "Transport", description: "connection reset" })
export const internal = () =>
  new IocmError.PlatformInternalError({ code: "50252", httpStatus: 500, description: "Internal server error." })
export const rejected = () =>
  new IocmError.RefreshTokenRejected({ code: "100006", httpStatus: 401, description: "Refresh access token failed." })
export const invalidCredentials = () =>
  new IocmError.InvalidCredentials({ code: "100208", httpStatus: 401, description: "AppId or secret is not right." })
export const applicationFrozen = () =>
  new IocmError.ApplicationFrozen({ code: "100247", httpStatus: 400, description: "The application has been frozen." })

export const make = (options: {
  readonly expiresIn?: number
  readonly latency?: Duration.Input
  readonly refreshTokenLifetime?: Duration.Input
} = {}): FakeAuth => {
  let logins = 0
  let refreshes = 0
  let issued = 0
  let interrupted = 0
  let inFlight = 0
  let maxInFlight = 0
  const calls: Array<Call> = []
  const lifetime = Duration.toMillis(options.refreshTokenLifetime ?? Duration.days(30))

  const answer = (outcome: Outcome, issuedAt: number) => {
    switch (outcome._tag) {
      case "Fail":
        return Effect.fail(outcome.error)
      case "Die":
        return Effect.die("boom")
      case "Ok": {
        issued++
        const accessToken = `at-${issued}`
        fake.lastAccessToken = accessToken
        fake.onIssue(accessToken)
        return Effect.succeed(
          new TokenSet({
            accessToken: Redacted.make(accessToken),
            refreshToken: outcome.refreshToken === false ? Option.none() : Option.some(Redacted.make(`rt-${issued}`)),
            tokenType: "bearer",
            scope: "default",
            expiresIn: outcome.expiresIn ?? fake.expiresIn,
            issuedAt,
            refreshTokenLifetimeMillis: lifetime
          })
        )
      }
    }
  }

  const run = (call: Omit<Call, "at">, outcome: () => Outcome) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      calls.push({ ...call, at })
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      yield* Effect.sleep(fake.latency)
      return yield* answer(outcome(), at)
    }).pipe(
      Effect.onInterrupt(() => Effect.sync(() => interrupted++)),
      Effect.ensuring(Effect.sync(() => inFlight--))
    )

  const service: IocmAuth.Service = {
    login: Effect.suspend(() => {
      const n = ++logins
      return run({ operation: "login" }, () => fake.login(n)).pipe(
        Effect.catchTag("RefreshTokenRejected", (error) => Effect.die(error))
      )
    }),
    refresh: (refreshToken) =>
      Effect.suspend(() => {
        const n = ++refreshes
        const token = Redacted.value(refreshToken)
        return run({ operation: "refresh", refreshToken: token }, () => fake.refresh(n, token))
      })
  }

  const fake: FakeAuth = {
    layer: Layer.succeed(IocmAuth.IocmAuth, service),
    service,
    calls,
    logins: () => logins,
    refreshes: () => refreshes,
    interrupted: () => interrupted,
    maxInFlight: () => maxInFlight,
    login: () => ok(),
    refresh: () => ok(),
    latency: options.latency ?? Duration.zero,
    expiresIn: options.expiresIn ?? 3600,
    lastAccessToken: undefined,
    onIssue: () => {}
  }
  return fake
}

/** A token set as the platform would issue it. */
export const tokenSet = (options: {
  readonly accessToken: string
  readonly refreshToken?: string | undefined
  readonly issuedAt: number
  readonly expiresIn?: number
  readonly refreshTokenLifetime?: Duration.Input
}): TokenSet =>
  new TokenSet({
    accessToken: Redacted.make(options.accessToken),
    refreshToken: Option.map(Option.fromNullishOr(options.refreshToken), Redacted.make),
    tokenType: "bearer",
    scope: "default",
    expiresIn: options.expiresIn ?? 3600,
    issuedAt: options.issuedAt,
    refreshTokenLifetimeMillis: Duration.toMillis(options.refreshTokenLifetime ?? Duration.days(30))
  })
