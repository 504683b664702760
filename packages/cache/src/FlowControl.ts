/**
 * Flow control: keeps the app's business calls within the platform's budget (by default 100 calls
 * per 60 s per app; past it the platform answers 403 / 1010004 "app throttle exceed").
 *
 * `limited` is an `HttpClient` middleware that takes a slot of the budget before each request,
 * WAITING for the next free slot instead of sending a call that would be refused. The budget is
 * counted as a sliding window per appId — never more than `limit` calls in any `window` (and the
 * margin), whatever the platform's windows are aligned to — by a `Store`: in memory for one process
 * (`layerMemory`), or in Redis for a fleet (`@iocm/redis`'s `RateLimit`). A 1010004 that
 * still arrives (another client of the same app, a platform budget lower than configured) is
 * waited out for one window and the request replayed once; a request whose body is a stream is not
 * replayed.
 *
 * Put it under `TokenService.authenticated`, on the transport:
 * `client.pipe(FlowControl.limited, TokenService.authenticated)`. Then every request that reaches
 * the platform takes exactly one slot — the token layer's replay after 1010005 included — and the
 * 1010004 replay re-sends the signed request on the wire without going through the token layer
 * again (which passes a 1010004 on untouched: it is not a token refusal).
 *
 * @since 0.2.0
 */
import * as IocmConfig from "@iocm/core/IocmConfig"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as internalAuthenticated from "./internal/authenticated.js"
import * as CallLog from "./internal/callLog.js"

/**
 * The budget: `limit` calls per `window`, as the platform counts them, and the `margin` added to
 * each window here to absorb the time between taking a slot and the platform counting the call.
 *
 * @since 0.2.0
 * @category Models
 */
export interface Options {
  /** Calls per window; default {@link defaultLimit}. */
  readonly limit?: number | undefined
  /** The platform's window; default {@link defaultWindow}. */
  readonly window?: Duration.Input | undefined
  /** Added to each window here; default {@link defaultMargin}. */
  readonly margin?: Duration.Input | undefined
}

/**
 * The platform's default flow control: 100 calls per window.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultLimit = 100

/**
 * The platform's default flow-control window: 60 seconds.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultWindow: Duration.Duration = Duration.seconds(60)

/**
 * The default margin: one second per window, more than the latency of a business call.
 *
 * @since 0.2.0
 * @category Defaults
 */
export const defaultMargin: Duration.Duration = Duration.seconds(1)

/**
 * The budget could not be counted (its store failed, e.g. Redis is unreachable); the call was not
 * sent.
 *
 * @since 0.2.0
 * @category Errors
 */
export class FlowControlError extends Schema.TaggedError<FlowControlError>("@iocm/cache/FlowControlError")(
  "FlowControlError",
  {
    description: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  /** @since 0.2.0 */
  override get message(): string {
    return `FlowControlError: the call budget could not be counted, so the call was not sent (${this.description}). Check the limiter's store.`
  }
}

/**
 * The budget of one app.
 *
 * @since 0.2.0
 * @category Models
 */
export interface Service {
  /** Waits for the next free slot of the budget and takes it. */
  readonly take: Effect.Effect<void, FlowControlError>
  /** After a 1010004: waits out one window (and the margin), then takes a slot for the replay. */
  readonly waitOut: Effect.Effect<void, FlowControlError>
}

/**
 * The budget of the app of `PlatformConfig`, read by `limited`.
 *
 * @since 0.2.0
 * @category Tags
 */
export class FlowControl extends Context.Service<FlowControl, Service>()("@iocm/cache/FlowControl") {}

/**
 * Where budgets are counted: a sliding log of the calls granted per key, shared by every process
 * that shares the budget.
 *
 * @since 0.2.0
 * @category Models
 */
export interface StoreService {
  /**
   * Grants a slot of `key`'s budget if fewer than `limit` calls were granted in the last
   * `windowMillis` (answers 0), else answers the milliseconds until the oldest of them leaves the
   * window; the one atomic step of the store.
   */
  readonly take: (key: string, limit: number, windowMillis: number) => Effect.Effect<number, FlowControlError>
}

/**
 * The store budgets are counted in.
 *
 * @since 0.2.0
 * @category Tags
 */
export class Store extends Context.Service<Store, StoreService>()("@iocm/cache/FlowControl/Store") {}

/**
 * A store in memory, on Effect's `Clock` (a test's `TestClock` drives it): one process's budgets.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const makeStoreMemory: Effect.Effect<StoreService> = Effect.sync(() => {
  const logs = new Map<string, CallLog.Log>()
  return Store.of({
    take: (key, limit, windowMillis) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const [decision, log] = CallLog.take(logs.get(key) ?? [], now, limit, windowMillis)
        logs.set(key, log)
        return decision
      })
  })
})

/**
 * `makeStoreMemory` as a layer.
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerStoreMemory: Layer.Layer<Store> = Layer.effect(Store, makeStoreMemory)

/** Takes a slot of `key`'s budget from `store`, waiting for one as long as the window is full. */
const takeSlot = (
  store: StoreService,
  key: string,
  limit: number,
  windowMillis: number
): Effect.Effect<void, FlowControlError> =>
  Effect.flatMap(
    store.take(key, limit, windowMillis),
    (wait) =>
      wait === 0
        ? Effect.void
        : Effect.andThen(Effect.sleep(Duration.millis(wait)), takeSlot(store, key, limit, windowMillis))
  )

/**
 * The budget of the app of `PlatformConfig`, counted in the `Store` in context under the appId.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, InvalidFlowControl, Store | PlatformConfig.PlatformConfig> =>
  Effect.gen(function*() {
    const { limit, counted } = yield* checked(options)
    const { appId } = yield* PlatformConfig.PlatformConfig
    const store = yield* Store
    const take = takeSlot(store, appId, limit, Duration.toMillis(counted))
    return FlowControl.of({ take, waitOut: Effect.andThen(Effect.sleep(counted), take) })
  })

/**
 * The options of a budget are not valid: `limit` must be a whole number of at least 1, `window`
 * a finite duration longer than zero, `margin` a finite, non-negative duration.
 *
 * @since 0.2.0
 * @category Errors
 */
export class InvalidFlowControl extends Schema.TaggedError<InvalidFlowControl>("@iocm/cache/InvalidFlowControl")(
  "InvalidFlowControl",
  { option: Schema.String, description: Schema.String }
) {
  /** @since 0.2.0 */
  override get message(): string {
    return `InvalidFlowControl (${this.option}): ${this.description}`
  }
}

/** The limit and the counted window (the platform's window and the margin) of `options`, checked. */
const checked = (
  options: Options
): Effect.Effect<{ readonly limit: number; readonly counted: Duration.Duration }, InvalidFlowControl> => {
  const limit = options.limit ?? defaultLimit
  const window = Option.getOrUndefined(Duration.fromInput(options.window ?? defaultWindow))
  const margin = Option.getOrUndefined(Duration.fromInput(options.margin ?? defaultMargin))
  const refused = (option: string, description: string) => Effect.fail(new InvalidFlowControl({ option, description }))
  if (!Number.isInteger(limit) || limit < 1) {
    return refused("limit", `expected a whole number of calls ≥ 1, got ${limit}`)
  }
  if (window === undefined || !Duration.isFinite(window) || Duration.isZero(window) || Duration.isNegative(window)) {
    return refused("window", "expected a finite duration longer than zero")
  }
  if (margin === undefined || !Duration.isFinite(margin) || Duration.isNegative(margin)) {
    return refused("margin", "expected a finite, non-negative duration")
  }
  return Effect.succeed({ limit, counted: Duration.sum(window, margin) })
}

/**
 * The budget over the `Store` in context (bring a store shared by a fleet).
 *
 * @since 0.2.0
 * @category Layers
 */
export const layer = (
  options?: Options | undefined
): Layer.Layer<FlowControl, InvalidFlowControl, Store | PlatformConfig.PlatformConfig> =>
  Layer.effect(FlowControl, make(options))

/**
 * The budget of one process, counted in memory.
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerMemory = (
  options?: Options | undefined
): Layer.Layer<FlowControl, InvalidFlowControl, PlatformConfig.PlatformConfig> =>
  layer(options).pipe(Layer.provide(layerStoreMemory))

/**
 * The budget's options read through `Config`, every key optional: `IOCM_FLOW_LIMIT` (calls per
 * window), `IOCM_FLOW_WINDOW` and `IOCM_FLOW_MARGIN` (durations such as `60 seconds`, or a number of
 * seconds). An invalid value fails.
 *
 * @since 0.2.0
 * @category Config
 */
export const envConfig: { readonly [K in keyof Options]-?: Config.Config<Options[K]> } = {
  limit: Config.Int("IOCM_FLOW_LIMIT").pipe(Config.withDefault(undefined)),
  window: IocmConfig.duration("IOCM_FLOW_WINDOW").pipe(Config.withDefault(undefined)),
  margin: IocmConfig.duration("IOCM_FLOW_MARGIN").pipe(Config.withDefault(undefined))
}

/**
 * `layerMemory` with its options read through `config` (each a `Config`, or one `Config` of them
 * all), by default the `IOCM_FLOW_*` variables of `envConfig`.
 *
 * @since 0.2.0
 * @category Layers
 */
export const layerMemoryConfig = (
  config: Config.Wrap<Options> = envConfig
): Layer.Layer<FlowControl, InvalidFlowControl | Config.ConfigError, PlatformConfig.PlatformConfig> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layerMemory))

/**
 * Whether a response is the platform's flow-control refusal: 403 / 1010004.
 *
 * @since 0.2.0
 * @category Predicates
 */
export const isThrottled = (status: number, code: string | undefined): boolean => status === 403 && code === "1010004"

/** The slow path, after a 403: on 1010004, waits out the window and replays the request once. */
const onForbidden = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  service: Service,
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | FlowControlError, R> =>
  Effect.gen(function*() {
    const inspected = yield* internalAuthenticated.inspect(response)
    // A streamed body cannot be sent twice.
    if (!isThrottled(response.status, inspected.code) || request.body._tag === "Stream") return inspected.response
    yield* Effect.logDebug("Call refused by the platform's flow control; waiting out the window to replay it once")
      .pipe(
        Effect.annotateLogs({ code: inspected.code, method: request.method })
      )
    yield* service.waitOut
    // Replayed once; whatever comes back now is returned as is.
    return yield* client.execute(request).pipe(
      Effect.withSpan("iocm.flow.replay", { attributes: { code: inspected.code } })
    )
  })

/**
 * Sends one request through `client` once `service` gives it a slot; a 1010004 is waited out and
 * the request replayed once.
 */
const execute = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  service: Service,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | FlowControlError, R> =>
  Effect.andThen(
    service.take,
    Effect.flatMap(
      client.execute(request),
      (response): Effect.Effect<HttpClientResponse.HttpClientResponse, E | FlowControlError, R> =>
        response.status === 403 ? onForbidden(client, service, request, response) : Effect.succeed(response)
    )
  )

/**
 * The flow-controlled client: each request waits for a slot of the `FlowControl` budget in context.
 * Put it under `TokenService.authenticated` (see the module's header).
 *
 * @example
 * ```ts
 * import { FlowControl, TokenService } from "@iocm/cache"
 * import { Effect } from "effect"
 * import { HttpClient } from "effect/http"
 *
 * const api = Effect.map(HttpClient.HttpClient, (client) =>
 *   client.pipe(FlowControl.limited, TokenService.authenticated))
 * // provide FlowControl.layerMemory() (or @iocm/redis's RateLimit.layer() for a fleet)
 * ```
 *
 * @since 0.2.0
 * @category Middleware
 */
export const limited = <E, R>(
  client: HttpClient.HttpClient.With<E, R>
): HttpClient.HttpClient.With<E | FlowControlError, R | FlowControl> =>
  HttpClient.makeWith<never, never, E | FlowControlError, R | FlowControl>(
    (request) =>
      Effect.flatMap(request, (request) =>
        // One context read per request; nothing is rebuilt.
        Effect.contextWith((context: Context.Context<FlowControl>) =>
          execute(client, Context.get(context, FlowControl), request)
        )),
    Effect.succeed
  )
