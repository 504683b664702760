/**
 * The platform's in-memory state and its token rules, as a `Ref` state machine driven by `Clock`:
 * registered apps, one token set per app (a new login or refresh replaces it), single-use refresh
 * tokens, token expiry and per-app flow control on business calls.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Crypto from "node:crypto"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { specs } from "./errors.js"
import * as Transitions from "./transition.js"

/** @internal */
export interface App {
  readonly appId: string
  readonly secret: Redacted.Redacted<string>
  readonly frozen: boolean
}

/** @internal */
export interface Session {
  readonly appId: string
  readonly accessToken: string
  readonly refreshToken: string
  readonly issuedAt: number
  readonly accessExpiresAt: number
  readonly refreshExpiresAt: number
}

interface Usage {
  readonly windowStart: number
  readonly count: number
}

/**
 * The platform's state. Sessions and usage change on every token request and business call, so
 * they are persistent `HashMap`s: a change shares the rest of the map instead of copying it (a
 * `Map` copy per request was the simulator's costliest rule). Apps change only through the
 * control API.
 *
 * @internal
 */
export interface State {
  readonly apps: ReadonlyMap<string, App>
  readonly sessions: HashMap.HashMap<string, Session>
  readonly usage: HashMap.HashMap<string, Usage>
}

/** @internal */
export interface Settings {
  readonly tokenLifetimeMillis: number
  readonly refreshLifetimeMillis: number
  readonly rateLimit: number
  readonly rateWindowMillis: number
  readonly frozenCode: "100449" | "100247"
}

/** @internal */
export interface Issued {
  readonly session: Session
  /** Whole seconds, at least 1, as sent in `expiresIn`. */
  readonly expiresIn: number
}

/** @internal */
export interface Platform {
  readonly login: (appId: string, secret: Redacted.Redacted<string>) => Effect.Effect<Issued, PlatformReject>
  readonly refresh: (
    appId: string,
    secret: Redacted.Redacted<string>,
    refreshToken: Redacted.Redacted<string>
  ) => Effect.Effect<Issued, PlatformReject>
  readonly authorize: (appKey: string, accessToken: string) => Effect.Effect<void, PlatformReject>
  readonly registerApp: (app: App) => Effect.Effect<void>
  readonly setFrozen: (appId: string, frozen: boolean) => Effect.Effect<boolean>
  readonly revoke: (appId: string) => Effect.Effect<void>
  readonly revokeAll: Effect.Effect<void>
  readonly isRegistered: (appId: string) => Effect.Effect<boolean>
  /** Token sets whose access or refresh token is still valid now. */
  readonly sessions: Effect.Effect<ReadonlyArray<Session>>
}

// Random bytes for the tokens, drawn 256 tokens at a time: a CSPRNG call per token was a tenth of
// a request's CPU.
const tokenPool = Buffer.alloc(16 * 256)
let poolOffset = tokenPool.length

/**
 * An opaque token like the platform's: 32 random hex characters.
 *
 * @internal
 */
export const randomToken = (): string => {
  if (poolOffset === tokenPool.length) {
    Crypto.randomFillSync(tokenPool)
    poolOffset = 0
  }
  poolOffset += 16
  return tokenPool.toString("hex", poolOffset - 16, poolOffset)
}

/**
 * Compares two secrets in time that depends on their lengths only, never on their contents (the
 * usual `timingSafeEqual` on equal-length buffers; hashing both sides first cost ten times more).
 *
 * @internal
 */
export const safeEqual = (a: string, b: string): boolean => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && Crypto.timingSafeEqual(left, right)
}

const withMap = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> => new Map(map).set(key, value)

/** The value under `key`, or `undefined`. */
const lookup = <V>(map: HashMap.HashMap<string, V>, key: string): V | undefined =>
  Option.getOrUndefined(HashMap.get(map, key))

type Transition<A> = Transitions.Transition<State, A>

const authenticate = (
  state: State,
  settings: Settings,
  appId: string,
  secret: Redacted.Redacted<string>
): Result.Result<App, ErrorSpec> => {
  const app = state.apps.get(appId)
  if (app === undefined || !safeEqual(Redacted.value(app.secret), Redacted.value(secret))) {
    return Result.fail(specs.credentials)
  }
  if (app.frozen) {
    return Result.fail(settings.frozenCode === "100247" ? specs.appFrozen : specs.deviceFrozen)
  }
  return Result.succeed(app)
}

const issue = (state: State, settings: Settings, appId: string, now: number, tokens: Tokens): Transition<Issued> => {
  const session: Session = {
    appId,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    issuedAt: now,
    accessExpiresAt: now + settings.tokenLifetimeMillis,
    refreshExpiresAt: now + settings.refreshLifetimeMillis
  }
  const expiresIn = Math.max(1, Math.ceil(settings.tokenLifetimeMillis / 1000))
  // One token set per app: whatever the app held before (access and refresh token) is gone.
  return [Result.succeed({ session, expiresIn }), { ...state, sessions: HashMap.set(state.sessions, appId, session) }]
}

interface Tokens {
  readonly accessToken: string
  readonly refreshToken: string
}

/**
 * Login: valid credentials of a non-frozen app get a new token set, replacing the previous one.
 *
 * @internal
 */
export const loginTransition = (
  state: State,
  settings: Settings,
  input: { readonly appId: string; readonly secret: Redacted.Redacted<string>; readonly now: number; tokens: Tokens }
): Transition<Issued> =>
  Result.match(authenticate(state, settings, input.appId, input.secret), {
    onFailure: (spec) => [Result.fail(spec), state],
    onSuccess: (app) => issue(state, settings, app.appId, input.now, input.tokens)
  })

/**
 * Refresh: valid credentials plus the app's current, unexpired refresh token get a new token
 * set; the refresh token is spent (rotation) and the previous access token stops working.
 *
 * @internal
 */
export const refreshTransition = (
  state: State,
  settings: Settings,
  input: {
    readonly appId: string
    readonly secret: Redacted.Redacted<string>
    readonly refreshToken: Redacted.Redacted<string>
    readonly now: number
    readonly tokens: Tokens
  }
): Transition<Issued> =>
  Result.match(authenticate(state, settings, input.appId, input.secret), {
    onFailure: (spec) => [Result.fail(spec), state],
    onSuccess: (app) => {
      const session = lookup(state.sessions, app.appId)
      if (
        session === undefined ||
        !safeEqual(session.refreshToken, Redacted.value(input.refreshToken)) ||
        input.now >= session.refreshExpiresAt
      ) {
        return [Result.fail(specs.refreshFailed), state]
      }
      return issue(state, settings, app.appId, input.now, input.tokens)
    }
  })

/**
 * A business call: the app's current, unexpired access token, then flow control (a fixed window
 * per app; only authenticated calls count).
 *
 * @internal
 */
export const authorizeTransition = (
  state: State,
  settings: Settings,
  input: { readonly appKey: string; readonly accessToken: string; readonly now: number }
): Transition<void> => {
  const session = lookup(state.sessions, input.appKey)
  if (
    session === undefined ||
    !safeEqual(session.accessToken, input.accessToken) ||
    input.now >= session.accessExpiresAt
  ) {
    return [Result.fail(specs.invalidToken), state]
  }
  const current = lookup(state.usage, input.appKey)
  const usage = current === undefined || input.now - current.windowStart >= settings.rateWindowMillis
    ? { windowStart: input.now, count: 0 }
    : current
  if (usage.count >= settings.rateLimit) {
    return [Result.fail(specs.throttled), state]
  }
  return [
    Result.succeed(undefined),
    {
      ...state,
      usage: HashMap.set(state.usage, input.appKey, { windowStart: usage.windowStart, count: usage.count + 1 })
    }
  ]
}

/** @internal */
export const initialState = (apps: Iterable<App>): State => ({
  apps: new Map(Array.from(apps, (app) => [app.appId, app] as const)),
  sessions: HashMap.empty(),
  usage: HashMap.empty()
})

/** A new token pair, drawn only for the transitions that may issue it. */
const newTokens: Effect.Effect<Tokens> = Effect.sync(() => ({
  accessToken: randomToken(),
  refreshToken: randomToken()
}))

/** @internal */
export const make = (settings: Settings, apps: Iterable<App>): Effect.Effect<Platform> =>
  Effect.gen(function*() {
    const ref = yield* Ref.make(initialState(apps))
    const run = <A>(f: (state: State, now: number) => Transition<A>) => Transitions.run(ref, f)

    const platform: Platform = {
      login: (appId, secret) =>
        Effect.flatMap(
          newTokens,
          (tokens) => run((state, now) => loginTransition(state, settings, { appId, secret, now, tokens }))
        ),
      refresh: (appId, secret, refreshToken) =>
        Effect.flatMap(
          newTokens,
          (tokens) =>
            run((state, now) => refreshTransition(state, settings, { appId, secret, refreshToken, now, tokens }))
        ),
      authorize: (appKey, accessToken) =>
        run((state, now) => authorizeTransition(state, settings, { appKey, accessToken, now })),
      registerApp: (app) =>
        Ref.update(ref, (state) => ({
          ...state,
          apps: withMap(state.apps, app.appId, app),
          sessions: HashMap.remove(state.sessions, app.appId)
        })),
      setFrozen: (appId, frozen) =>
        Ref.modify(ref, (state) => {
          const app = state.apps.get(appId)
          if (app === undefined) return [false, state]
          return [true, { ...state, apps: withMap(state.apps, appId, { ...app, frozen }) }]
        }),
      revoke: (appId) => Ref.update(ref, (state) => ({ ...state, sessions: HashMap.remove(state.sessions, appId) })),
      revokeAll: Ref.update(ref, (state) => ({ ...state, sessions: HashMap.empty() })),
      isRegistered: (appId) => Effect.map(Ref.get(ref), (state) => state.apps.has(appId)),
      sessions: Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const state = yield* Ref.get(ref)
        return Array.from(HashMap.values(state.sessions)).filter((s) =>
          now < s.accessExpiresAt || now < s.refreshExpiresAt
        )
      })
    }
    return platform
  })
