/**
 * An in-memory `IocmAuth` for the timing tests: scripted answers, counters, a latency slept on the
 * `Clock` (so `TestClock` drives it), and a hook called with every token it issues. It issues
 * `at-<n>` / `rt-<n>` for the n-th token.
 *
 * @since 0.0.0
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmError from "@iocm/core/IocmError"
import type { TokenSet } from "@iocm/core/TokenSet"
import { Clock, Duration, Effect, Layer, Redacted } from "effect"
import * as Tokens from "./Tokens.js"

/**
 * What the next login or refresh does.
 *
 * @since 0.0.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Ok"; readonly expiresIn?: number; readonly refreshToken?: boolean }
  | { readonly _tag: "Fail"; readonly error: IocmError.RefreshError }
  | { readonly _tag: "Die" }

/**
 * Issues a token set: `expiresIn` seconds (the fake's default otherwise), without a refresh token
 * when `refreshToken` is false.
 *
 * @since 0.0.0
 * @category outcomes
 */
export const ok = (options: { readonly expiresIn?: number; readonly refreshToken?: boolean } = {}): Outcome => ({
  _tag: "Ok",
  ...options
})

/**
 * Fails with `error`.
 *
 * @since 0.0.0
 * @category outcomes
 */
export const fail = (error: IocmError.RefreshError): Outcome => ({ _tag: "Fail", error })

/**
 * A call the fake received.
 *
 * @since 0.0.0
 * @category models
 */
export interface Call {
  readonly operation: "login" | "refresh"
  /** Clock time when the request was sent. */
  readonly at: number
  /** The refresh token sent, for refreshes. */
  readonly refreshToken?: string
}

/**
 * The fake, its layer, what it saw, and its script (change it at any moment).
 *
 * @since 0.0.0
 * @category models
 */
export interface FakeAuth {
  readonly layer: Layer.Layer<IocmAuth.IocmAuth>
  readonly service: IocmAuth.Service
  readonly calls: Array<Call>
  readonly logins: () => number
  readonly refreshes: () => number
  /** Calls that were interrupted before they answered. */
  readonly interrupted: () => number
  readonly maxInFlight: () => number
  /** The answer of the n-th login (by default `ok()`). */
  login: (n: number) => Outcome
  /** The answer of the n-th refresh, sent `refreshToken` (by default `ok()`). */
  refresh: (n: number, refreshToken: string) => Outcome
  latency: Duration.Input
  expiresIn: number
  /** The refresh token issued with the n-th token. */
  refreshTokenOf: (n: number) => string
  /** The token issued last. */
  lastAccessToken: string | undefined
  /** Called with every access token issued. */
  onIssue: (accessToken: string) => void
}

/**
 * A connection reset.
 *
 * @since 0.0.0
 * @category errors
 */
export const transport = () => new IocmError.TransportError({ code: "Transport", description: "connection reset" })

/**
 * The platform's 500/50252.
 *
 * @since 0.0.0
 * @category errors
 */
export const internal = () =>
  new IocmError.PlatformInternalError({ code: "50252", httpStatus: 500, description: "Internal server error." })

/**
 * The platform's 401/100006: the refresh token is refused.
 *
 * @since 0.0.0
 * @category errors
 */
export const rejected = () =>
  new IocmError.RefreshTokenRejected({ code: "100006", httpStatus: 401, description: "Refresh access token failed." })

/**
 * The platform's 401/100208: wrong appId or secret.
 *
 * @since 0.0.0
 * @category errors
 */
export const invalidCredentials = () =>
  new IocmError.InvalidCredentials({ code: "100208", httpStatus: 401, description: "AppId or secret is not right." })

/**
 * The platform's 400/100247: the application is frozen.
 *
 * @since 0.0.0
 * @category errors
 */
export const applicationFrozen = () =>
  new IocmError.ApplicationFrozen({ code: "100247", httpStatus: 400, description: "The application has been frozen." })

/**
 * How the fake starts out.
 *
 * @since 0.0.0
 * @category models
 */
export interface Options {
  /** Seconds; 3600 by default. */
  readonly expiresIn?: number
  /** How long each call takes, on the `Clock`; none by default. */
  readonly latency?: Duration.Input
  /** 30 days by default. */
  readonly refreshTokenLifetime?: Duration.Input
}

interface Counters {
  logins: number
  refreshes: number
  issued: number
  interrupted: number
  inFlight: number
  maxInFlight: number
}

const issue = (fake: FakeAuth, counters: Counters, lifetime: Duration.Input) =>
(
  outcome: Extract<Outcome, { _tag: "Ok" }>,
  issuedAt: number
): TokenSet => {
  const n = ++counters.issued
  const accessToken = `at-${n}`
  fake.lastAccessToken = accessToken
  fake.onIssue(accessToken)
  return Tokens.tokenSet({
    accessToken,
    refreshToken: outcome.refreshToken === false ? undefined : fake.refreshTokenOf(n),
    expiresIn: outcome.expiresIn ?? fake.expiresIn,
    issuedAt,
    refreshTokenLifetime: lifetime
  })
}

const answer = (outcome: Outcome, tokens: (ok: Extract<Outcome, { _tag: "Ok" }>) => TokenSet) => {
  switch (outcome._tag) {
    case "Fail":
      return Effect.fail(outcome.error)
    case "Die":
      return Effect.die("boom")
    case "Ok":
      return Effect.sync(() => tokens(outcome))
  }
}

const run = (fake: FakeAuth, counters: Counters, lifetime: Duration.Input) =>
(
  call: Omit<Call, "at">,
  outcome: () => Outcome
): Effect.Effect<TokenSet, IocmError.RefreshError> =>
  Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    fake.calls.push({ ...call, at })
    counters.inFlight++
    counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight)
    yield* Effect.sleep(fake.latency)
    return yield* answer(outcome(), (ok) => issue(fake, counters, lifetime)(ok, at))
  }).pipe(
    Effect.onInterrupt(() => Effect.sync(() => counters.interrupted++)),
    Effect.ensuring(Effect.sync(() => counters.inFlight--))
  )

const service = (fake: FakeAuth, counters: Counters, lifetime: Duration.Input): IocmAuth.Service => {
  const call = run(fake, counters, lifetime)
  return {
    login: Effect.suspend(() => {
      const n = ++counters.logins
      return call({ operation: "login" }, () => fake.login(n)).pipe(
        Effect.catchTag("RefreshTokenRejected", (error) => Effect.die(error))
      )
    }),
    refresh: (refreshToken) =>
      Effect.suspend(() => {
        const n = ++counters.refreshes
        const token = Redacted.value(refreshToken)
        return call({ operation: "refresh", refreshToken: token }, () => fake.refresh(n, token))
      })
  }
}

/**
 * Makes a fake that answers `ok()` to everything until told otherwise.
 *
 * @since 0.0.0
 * @category constructors
 */
export const make = (options: Options = {}): FakeAuth => {
  const counters: Counters = { logins: 0, refreshes: 0, issued: 0, interrupted: 0, inFlight: 0, maxInFlight: 0 }
  const lifetime = options.refreshTokenLifetime ?? Duration.days(30)
  const fake: FakeAuth = {
    get layer() {
      return layer
    },
    get service() {
      return auth
    },
    calls: [],
    logins: () => counters.logins,
    refreshes: () => counters.refreshes,
    interrupted: () => counters.interrupted,
    maxInFlight: () => counters.maxInFlight,
    login: () => ok(),
    refresh: () => ok(),
    latency: options.latency ?? Duration.zero,
    expiresIn: options.expiresIn ?? 3600,
    refreshTokenOf: (n) => `rt-${n}`,
    lastAccessToken: undefined,
    onIssue: () => {}
  }
  const auth = service(fake, counters, lifetime)
  const layer = Layer.succeed(IocmAuth.IocmAuth, auth)
  return fake
}
