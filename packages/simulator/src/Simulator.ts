/**
 * A faithful fake of the Huawei IoT platform's (OceanConnect) northbound API: login and refresh
 * with the platform's token rules, and the business APIs a Network Application calls most (device
 * query, registration and deletion, device commands, subscriptions) behind the platform's
 * authentication and flow control, with its error codes and transport (HTTPS, optional mutual
 * TLS), plus fault injection, counters and a control API for tests. Use it as a `Layer` in tests
 * and examples, or run it with `pnpm simulator`.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as defaults from "./internal/defaults.js"
import * as internalEndpoints from "./internal/endpoints.js"
import * as fixtures from "./internal/fixtures.js"
import * as internal from "./internal/simulator.js"
import { SimulatorError } from "./internal/simulatorError.js"

/**
 * The simulated endpoints, as fault injection and the counters name them: `login`, `refresh`, and
 * the business resources `devices` (`dm/v1.1.0|v1.3.0|v1.4.0/devices` and `…/devices/{deviceId}`),
 * `registration` (`reg/v1.1.0/deviceCredentials`), `commands` (`cmd/v1.4.0/deviceCommands`) and
 * `subscriptions` (`sub/v1.2.0/subscriptions` and `…/subscriptions/{subscriptionId}`).
 *
 * @since 0.1.0
 * @category Models
 */
export type Endpoint = "login" | "refresh" | "devices" | "registration" | "commands" | "subscriptions"

/**
 * All simulated endpoints.
 *
 * @since 0.1.0
 * @category Models
 */
export const endpoints: ReadonlyArray<Endpoint> = internalEndpoints.endpoints

/**
 * Counted endpoints: the simulated ones, and `other` for unknown routes and the control API.
 *
 * @since 0.1.0
 * @category Models
 */
export type CountedEndpoint = Endpoint | "other"

/**
 * Answers per endpoint and outcome. `login`, `refresh`, `devices` and `other` are always there;
 * `registration`, `commands` and `subscriptions` appear once they have answered a request.
 *
 * @since 0.2.0
 * @category Models
 */
export type RequestCounts =
  & Readonly<Record<"login" | "refresh" | "devices" | "other", Readonly<Record<string, number>>>>
  & Readonly<Partial<Record<CountedEndpoint, Readonly<Record<string, number>>>>>

/**
 * What the platform lets a client get away with, as the counters name it: `loginFieldCase`, a login
 * form field found only without regard to case (`Secret`, `APPID`); `bearerCase`, an
 * `Authorization` scheme not spelt `Bearer` (`bearer`, as `tokenType` reads).
 *
 * @since 0.2.0
 * @category Models
 */
export type Leniency = "loginFieldCase" | "bearerCase"

/**
 * A device's `nodeType`, as the platform reports it.
 *
 * @since 0.2.0
 * @category Models
 */
export type NodeType = "ENDPOINT" | "GATEWAY" | "UNKNOWN"

/**
 * A device's `deviceInfo.status`, as the platform reports it.
 *
 * @since 0.2.0
 * @category Models
 */
export type DeviceStatus = "ONLINE" | "OFFLINE" | "INBOX" | "ABNORMAL"

/**
 * One service of a device, with the data it last reported.
 *
 * @since 0.2.0
 * @category Models
 */
export interface DeviceService {
  readonly serviceId: string
  readonly serviceType?: string | undefined
  readonly data?: Readonly<Record<string, unknown>> | undefined
}

/**
 * A device put into an app's store by a test (`seedDevice`), as if registered and already online.
 *
 * @since 0.2.0
 * @category Models
 */
export interface DeviceSeed {
  /** The app that owns it; default the main app. */
  readonly appId?: string | undefined
  /** Default: a random UUID, as the platform assigns. */
  readonly deviceId?: string | undefined
  /** The device's own identifier (an IMEI, a MAC address…), unique within the app. */
  readonly nodeId: string
  /** Default: the device's own `deviceId` (a directly connected device). */
  readonly gatewayId?: string | undefined
  /** Default `"ENDPOINT"`. */
  readonly nodeType?: NodeType | undefined
  readonly name?: string | undefined
  readonly manufacturerId?: string | undefined
  readonly manufacturerName?: string | undefined
  readonly deviceType?: string | undefined
  readonly model?: string | undefined
  readonly protocolType?: string | undefined
  /** Default `"ONLINE"`. */
  readonly status?: DeviceStatus | undefined
  readonly services?: ReadonlyArray<DeviceService> | undefined
}

/**
 * Where a device command stands: `PENDING` (cached by the platform), `SENT` (issued to the
 * device), `DELIVERED` (the device acknowledged it), or `EXPIRED` (its `expireTime` passed before
 * it could be sent).
 *
 * @since 0.2.0
 * @category Models
 */
export type CommandStatus = "PENDING" | "SENT" | "DELIVERED" | "EXPIRED"

/**
 * A device command an app sent, as a test reads it back. Times are epoch milliseconds from `Clock`.
 *
 * @since 0.2.0
 * @category Models
 */
export interface CommandSnapshot {
  readonly commandId: string
  readonly appId: string
  readonly deviceId: string
  readonly command: {
    readonly serviceId: string
    readonly method: string
    readonly paras: Readonly<Record<string, unknown>> | undefined
  }
  /** Stored as given; the simulator sends no callback. */
  readonly callbackUrl: string | undefined
  /** Seconds the platform keeps the command before it expires (0: send at once). */
  readonly expireTime: number
  readonly maxRetransmit: number
  readonly status: CommandStatus
  readonly createdAt: number
  readonly sentAt: number | undefined
  readonly deliveredAt: number | undefined
}

/**
 * A subscription an app made, as a test reads it back.
 *
 * @since 0.2.0
 * @category Models
 */
export interface SubscriptionSnapshot {
  readonly subscriptionId: string
  readonly appId: string
  readonly notifyType: string
  /** Stored as given; the simulator sends no notification. */
  readonly callbackUrl: string
  readonly ownerFlag: boolean | undefined
}

/**
 * Faults injected on one endpoint. Rates are shares of requests between 0 and 1 (`true` means 1);
 * one draw from Effect's `Random` decides which fault, if any, a request gets. A faulted request
 * never reaches the platform, so it changes no token state; latency is added before everything.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Faults {
  /** Share of requests answered 500 `{"error_code":"50252","error_desc":"Internal server error."}`. */
  readonly errorRate?: number | undefined
  /** Delay added before each request is handled. */
  readonly latency?: Duration.Input | undefined
  /** Share of requests whose connection is destroyed without an answer. */
  readonly reset?: boolean | number | undefined
  /** Share of requests answered 200 with a JSON body cut in the middle. */
  readonly truncate?: boolean | number | undefined
  /** Share of requests answered 502 with a proxy's HTML error page. */
  readonly html?: boolean | number | undefined
  /** Apply these faults to the next `times` requests of the endpoint only, then clear them. */
  readonly times?: number | undefined
}

/**
 * An application registered on the simulated platform.
 *
 * @since 0.1.0
 * @category Models
 */
export interface AppRegistration {
  readonly appId: string
  readonly secret: string | Redacted.Redacted<string>
  /** A frozen app's login and refresh are refused with 400/100449 (or 100247). */
  readonly frozen?: boolean | undefined
}

/**
 * The credentials of a registered application.
 *
 * @since 0.1.0
 * @category Models
 */
export interface AppCredentials {
  readonly appId: string
  readonly secret: Redacted.Redacted<string>
}

/**
 * The transport the simulator listens on.
 *
 * @since 0.1.0
 * @category Models
 */
export type Protocol = "https" | "http"

/**
 * TLS material and mode. Every PEM defaults to the committed test-only fixtures.
 *
 * @since 0.1.0
 * @category Models
 */
export interface TlsOptions {
  /** Require a client certificate signed by `ca` (mutual TLS, as the real platform does). */
  readonly mutual?: boolean | undefined
  readonly ca?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  /** Client identity handed to tests through the service; not used by the server. */
  readonly clientCert?: string | undefined
  readonly clientKey?: string | undefined
}

/**
 * Options of the simulator. Every field is optional; the defaults are the platform's.
 *
 * @since 0.1.0
 * @category Models
 */
export interface SimulatorOptions {
  /** Interface to bind; default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Port; default 0 (a free port) for the Layer, 8743 for the CLI. */
  readonly port?: number | undefined
  /** Default `"https"`. */
  readonly protocol?: Protocol | undefined
  readonly tls?: TlsOptions | undefined
  /** The main app, exposed as `app`; default {@link demoApp}. */
  readonly app?: AppRegistration | undefined
  /** More registered apps. */
  readonly apps?: ReadonlyArray<AppRegistration> | undefined
  /** Access-token lifetime; default 3600 seconds. `expiresIn` reports it in whole seconds. */
  readonly tokenLifetime?: Duration.Input | undefined
  /** Refresh-token lifetime; default 30 days. */
  readonly refreshTokenLifetime?: Duration.Input | undefined
  /** Flow control of the business APIs: `limit` calls per `window` per app; default 100 per 60 s. */
  readonly rateLimit?: {
    readonly limit?: number | undefined
    readonly window?: Duration.Input | undefined
  } | undefined
  /** The code a frozen app gets: `"100449"` (default) or `"100247"`. */
  readonly frozenCode?: "100449" | "100247" | undefined
  /** Faults from the start, per endpoint. */
  readonly faults?: Partial<Record<Endpoint, Faults>> | undefined
  /** Largest request body accepted; default 64 KiB. */
  readonly maxBodySize?: number | undefined
  /** Name of the header carrying the appId on business calls; default `app_key`. */
  readonly appKeyHeader?: string | undefined
  /** Keys of the business endpoint's error body: `error_code`/`error_desc` (default) or `resultcode`/`resultmsg`. */
  readonly businessErrorKeys?: "error_code" | "resultcode" | undefined
  /** Serve the control API under `/_simulator` (counters, faults, apps); default true. */
  readonly controlApi?: boolean | undefined
  /** Log one line per request (method, path, status, outcome, duration; never a token or secret); default false. */
  readonly logRequests?: boolean | undefined
  /**
   * How a device command moves on, on the simulator's `Clock`: `SENT` `sendAfter` its creation
   * (default 1 second; at once when its `expireTime` is 0), then `DELIVERED` `deliverAfter` later
   * (default 1 second). Either may be zero.
   */
  readonly commandDelivery?: {
    readonly sendAfter?: Duration.Input | undefined
    readonly deliverAfter?: Duration.Input | undefined
  } | undefined
}

/**
 * One app's current token set, as a test sees it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface TokenSnapshot {
  readonly appId: string
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  /** Epoch milliseconds, from `Clock`. */
  readonly issuedAt: number
  readonly accessTokenExpiresAt: number
  readonly refreshTokenExpiresAt: number
  /** Whether the access token is still accepted by the business endpoint now. */
  readonly accessTokenValid: boolean
}

/**
 * A snapshot of the counters. `requests[endpoint][outcome]` counts answers, where the outcome is
 * `"ok"`, the platform's `error_code` (`"100208"`, `"1010005"`, an injected `"50252"`…),
 * `"bodyTooLarge"`, or the injected fault `"reset"`, `"truncate"` or `"html"`; under `other`:
 * `"404"`, `"405"`, `"control"` (the control API), and the authentication answers to unknown
 * business paths (`"100025"`, `"1010005"`, `"1010004"`).
 *
 * @since 0.1.0
 * @category Models
 */
export interface Counters {
  readonly requests: RequestCounts
  /** Successful logins. */
  readonly logins: number
  /** Successful refreshes. */
  readonly refreshes: number
  /** Successful business calls, on every business endpoint. */
  readonly businessCalls: number
  /** Requests that relied on the platform's leniency, per kind, whatever their answer. */
  readonly leniency: Readonly<Record<Leniency, number>>
  /** The current token set of each app that has one still valid (access or refresh token). */
  readonly tokens: Readonly<Record<string, TokenSnapshot>>
}

export {
  /**
   * The simulator could not start: unreadable TLS material, invalid options, or the port could
   * not be bound. Its `reason` is `"Tls"`, `"Options"` or `"Listen"`; `description` says what
   * went wrong.
   *
   * @since 0.1.0
   * @category Errors
   */
  SimulatorError
}

/**
 * A running simulator: where it listens, the credentials to reach it, and its control API.
 *
 * @since 0.1.0
 * @category Models
 */
export declare namespace Simulator {
  /**
   * The service.
   *
   * @since 0.1.0
   * @category Models
   */
  export interface Service {
    /** For example `https://127.0.0.1:41234`, no trailing slash. */
    readonly baseUrl: string
    readonly port: number
    readonly protocol: Protocol
    readonly mutualTls: boolean
    /** PEM of the CA that signed the server (and client) certificate. */
    readonly ca: string
    /** PEM client certificate signed by `ca`, for mutual TLS. */
    readonly clientCert: string
    /** PEM private key of `clientCert`. */
    readonly clientKey: string
    /** The main app. */
    readonly app: AppCredentials
    /** Registers an app (or replaces one, dropping its tokens). */
    readonly registerApp: (app: AppRegistration) => Effect.Effect<void>
    readonly freezeApp: (appId: string) => Effect.Effect<void, Cause.NoSuchElementError>
    readonly unfreezeApp: (appId: string) => Effect.Effect<void, Cause.NoSuchElementError>
    /** Invalidates the tokens of one app, or of every app. */
    readonly revokeTokens: (appId?: string) => Effect.Effect<void>
    /** Replaces the faults of one endpoint, or of all; `{}` clears them. */
    readonly setFaults: (endpoint: Endpoint | "all", faults: Faults) => Effect.Effect<void>
    readonly clearFaults: Effect.Effect<void>
    readonly counters: Effect.Effect<Counters>
    readonly resetCounters: Effect.Effect<void>
    /**
     * Puts a device into an app's store, as if registered and online, and answers its `deviceId`.
     * Fails with `NoSuchElementError` for an unknown app, `IllegalArgumentError` for an empty
     * `nodeId` or `deviceId`, or one the app already has.
     */
    readonly seedDevice: (
      device: DeviceSeed
    ) => Effect.Effect<string, Cause.NoSuchElementError | Cause.IllegalArgumentError>
    /** The commands of one app, or of every app, oldest first, with their status now. */
    readonly commands: (appId?: string) => Effect.Effect<ReadonlyArray<CommandSnapshot>>
    /** The subscriptions of one app, or of every app, oldest first. */
    readonly subscriptions: (appId?: string) => Effect.Effect<ReadonlyArray<SubscriptionSnapshot>>
  }
}

/**
 * The simulator service tag.
 *
 * @since 0.1.0
 * @category Models
 */
export class Simulator extends Context.Service<Simulator, Simulator.Service>()("@iocm/simulator/Simulator") {}

/**
 * The demo app registered when no other is given. Not a secret: it only opens the simulator.
 *
 * @since 0.1.0
 * @category Constants
 */
export const demoApp: { readonly appId: string; readonly secret: string } = defaults.demoApp

/**
 * The port the real platform and the CLI listen on.
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaultPort = defaults.defaultPort

/**
 * Absolute path of the committed TEST-ONLY certificates (`ca.pem`, `server.pem`, `client.pem`,
 * `client-key.pem`, `client.p12`…).
 *
 * @since 0.1.0
 * @category Constants
 */
export const fixturesDirectory: string = fixtures.fixturesDirectory

/**
 * Passphrase of the test-only PKCS#12 client bundle `fixtures/client.p12`.
 *
 * @since 0.1.0
 * @category Constants
 */
export const clientP12Passphrase = "iocm-test-passphrase"

/**
 * The main app's credentials from `IOCM_APP_ID` / `IOCM_SECRET`, defaulting to {@link demoApp},
 * so one set of variables points the examples and the simulator at the same app.
 *
 * @since 0.1.0
 * @category Config
 */
export const appConfig: Config.Config<AppCredentials> = Config.all({
  appId: Config.schema(
    Schema.String.pipe(Schema.check(Schema.isNonEmpty({ message: "IOCM_APP_ID must not be empty" }))),
    "IOCM_APP_ID"
  ).pipe(Config.withDefault(demoApp.appId)),
  secret: Config.Redacted("IOCM_SECRET").pipe(Config.withDefault(Redacted.make(demoApp.secret)))
})

/**
 * Starts a simulator in the current scope and returns its service; the server stops when the
 * scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options?: SimulatorOptions): Effect.Effect<Simulator.Service, SimulatorError, Scope.Scope> =>
  internal.make(options)

/**
 * A simulator on 127.0.0.1, a free port and HTTPS with the test fixtures unless told otherwise.
 * Build it with real services (`it.layer(..., { excludeTestServices: true })`, `it.live`)
 * when faults add latency; the token clock is the `Clock` it is built with.
 *
 * @example
 * ```ts
 * import { Simulator } from "@iocm/simulator"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const sim = yield* Simulator.Simulator
 *   console.log(sim.baseUrl, sim.app.appId)
 *   yield* sim.setFaults("refresh", { errorRate: 1, times: 2 })
 * }).pipe(Effect.provide(Simulator.layer({ tls: { mutual: true } })))
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options?: SimulatorOptions): Layer.Layer<Simulator, SimulatorError> =>
  Layer.effect(Simulator, make(options))

/**
 * Like {@link layer}, with the main app read from `IOCM_APP_ID` / `IOCM_SECRET` (see
 * {@link appConfig}), so an example and its simulator share one set of variables.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options?: Omit<SimulatorOptions, "app">
): Layer.Layer<Simulator, SimulatorError | Config.ConfigError> =>
  Layer.effect(Simulator, Effect.flatMap(appConfig, (app) => make({ ...options, app })))
