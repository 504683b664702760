/**
 * Wiring: options, TLS material, the Node server (HTTP or HTTPS, optional mutual TLS), the
 * platform state, and the service handed to tests.
 *
 * @internal
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpMiddleware from "effect/http/HttpMiddleware"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Path from "node:path"
import * as Tls from "node:tls"
import type {
  AppCredentials,
  AppRegistration,
  Counters,
  DeviceSeed,
  Protocol,
  Simulator,
  SimulatorOptions,
  TokenSnapshot
} from "../Simulator.js"
import * as AppStore from "./appStore.js"
import type { Control } from "./controlRoutes.js"
import * as CounterRegistry from "./counters.js"
import { defaultMaxBodySize, demoApp } from "./defaults.js"
import { decode as decodeDuration } from "./duration.js"
import { businessEndpoints, endpoints } from "./endpoints.js"
import * as FaultRegistry from "./faults.js"
import { fixturesDirectory } from "./fixtures.js"
import * as Platform from "./platform.js"
import * as Router from "./router.js"
import { SimulatorError } from "./simulatorError.js"

interface TlsMaterial {
  readonly ca: string
  readonly cert: string
  readonly key: string
  readonly clientCert: string
  readonly clientKey: string
}

const readFixture = (name: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(Path.join(fixturesDirectory, name), "utf8"),
    catch: (cause) =>
      new SimulatorError({
        reason: "Tls",
        description: `cannot read test fixture ${name} in ${fixturesDirectory}`,
        cause
      })
  })

const orFixture = (given: string | undefined, name: string) =>
  given === undefined ? readFixture(name) : Effect.succeed(given)

const loadTls = (options: SimulatorOptions): Effect.Effect<TlsMaterial, SimulatorError> =>
  Effect.all({
    ca: orFixture(options.tls?.ca, "ca.pem"),
    cert: orFixture(options.tls?.cert, "server.pem"),
    key: orFixture(options.tls?.key, "server-key.pem"),
    clientCert: orFixture(options.tls?.clientCert, "client.pem"),
    clientKey: orFixture(options.tls?.clientKey, "client-key.pem")
  }).pipe(
    // Refuse unusable PEMs here, as a typed error, rather than as a defect when the server starts.
    Effect.tap((tls) =>
      Effect.try({
        try: () => Tls.createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key }),
        catch: (cause) =>
          new SimulatorError({
            reason: "Tls",
            description: `unusable TLS material: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      })
    )
  )

const invalid = (description: string) => new SimulatorError({ reason: "Options", description })

/** A duration option in milliseconds: finite, and positive unless `zero` is allowed. */
const durationOption = (
  name: string,
  input: Duration.Input | undefined,
  fallback: Duration.Duration,
  smallest: "positive" | "zero" = "positive"
): Effect.Effect<number, SimulatorError> => {
  if (input === undefined) return Effect.succeed(Duration.toMillis(fallback))
  return Option.match(decodeDuration(input), {
    onNone: () => Effect.fail(invalid(`${name} is not a valid duration`)),
    onSome: (d) =>
      (smallest === "zero" || Duration.toMillis(d) > 0) && Duration.isFinite(d)
        ? Effect.succeed(Duration.toMillis(d))
        : Effect.fail(
          invalid(`${name} must be a ${smallest === "zero" ? "non-negative" : "positive"}, finite duration`)
        )
  })
}

const deliveryOption = (options: SimulatorOptions): Effect.Effect<AppStore.Delivery, SimulatorError> =>
  Effect.all({
    sendAfterMillis: durationOption(
      "commandDelivery.sendAfter",
      options.commandDelivery?.sendAfter,
      Duration.seconds(1),
      "zero"
    ),
    deliverAfterMillis: durationOption(
      "commandDelivery.deliverAfter",
      options.commandDelivery?.deliverAfter,
      Duration.seconds(1),
      "zero"
    )
  })

const toApp = (registration: AppRegistration): Platform.App => ({
  appId: registration.appId,
  secret: typeof registration.secret === "string" ? Redacted.make(registration.secret) : registration.secret,
  frozen: registration.frozen ?? false
})

const urlHost = (host: string): string => {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1"
  if (host === "::") return "[::1]"
  return host.includes(":") ? `[${host}]` : host
}

/**
 * `Expect: 100-continue`, the platform's way: an oversized body is refused before the client sends
 * it, any other gets its 100 at once. This replaces NodeHttpServer's own listener, which answers 100
 * only when the body is read and then closes the connection after a refusal.
 */
const answerContinue = (server: Http.Server, maxBodySize: number): void => {
  server.removeAllListeners("checkContinue")
  server.on("checkContinue", (request: Http.IncomingMessage, response: Http.ServerResponse) => {
    const declared = Number(request.headers["content-length"])
    if (!(Number.isFinite(declared) && declared > maxBodySize)) {
      response.writeContinue()
    }
    server.emit("request", request, response)
  })
}

/**
 * Puts a test's device into `appId`'s store: a registered app, a non-empty `nodeId` (and
 * `deviceId`, when given) that the app has no device with yet.
 */
const seedDevice = (
  platform: Platform.Platform,
  store: AppStore.Store,
  appId: string,
  seed: DeviceSeed
): Effect.Effect<string, Cause.NoSuchElementError | Cause.IllegalArgumentError> =>
  Effect.gen(function*() {
    if (!(yield* platform.isRegistered(appId))) {
      return yield* Effect.fail(new Cause.NoSuchElementError(`No app ${appId}`))
    }
    if (seed.nodeId === "" || seed.deviceId === "") {
      return yield* Effect.fail(new Cause.IllegalArgumentError("A device's nodeId and deviceId must not be empty"))
    }
    const deviceId = seed.deviceId ?? Crypto.randomUUID()
    const added = yield* store.modify((state, now) =>
      AppStore.addDevice(state, appId, AppStore.newDevice({ ...seed, deviceId, status: seed.status ?? "ONLINE" }, now))
    ).pipe(
      Effect.mapError(() =>
        new Cause.IllegalArgumentError(`App ${appId} already has a device ${deviceId} or with nodeId ${seed.nodeId}`)
      )
    )
    return added.deviceId
  })

/** @internal */
export const make = (
  options: SimulatorOptions = {}
): Effect.Effect<Simulator.Service, SimulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    const protocol: Protocol = options.protocol ?? "https"
    const mutualTls = options.tls?.mutual ?? false
    if (mutualTls && protocol !== "https") {
      return yield* invalid("mutual TLS needs protocol \"https\"")
    }
    const host = options.host ?? "127.0.0.1"
    const port = options.port ?? 0
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return yield* invalid(`port ${port} is not between 0 and 65535`)
    }
    const maxBodySize = options.maxBodySize ?? defaultMaxBodySize
    if (!Number.isSafeInteger(maxBodySize) || maxBodySize < 1) {
      return yield* invalid("maxBodySize must be a positive integer")
    }
    const rateLimit = options.rateLimit?.limit ?? 100
    if (!Number.isSafeInteger(rateLimit) || rateLimit < 0) {
      return yield* invalid("rateLimit.limit must be a non-negative integer")
    }
    const settings: Platform.Settings = {
      tokenLifetimeMillis: yield* durationOption("tokenLifetime", options.tokenLifetime, Duration.hours(1)),
      refreshLifetimeMillis: yield* durationOption(
        "refreshTokenLifetime",
        options.refreshTokenLifetime,
        Duration.days(30)
      ),
      rateLimit,
      rateWindowMillis: yield* durationOption("rateLimit.window", options.rateLimit?.window, Duration.seconds(60)),
      frozenCode: options.frozenCode ?? "100449"
    }
    const delivery = yield* deliveryOption(options)
    const main = toApp(options.app ?? demoApp)
    if (main.appId === "") return yield* invalid("the app's appId must not be empty")
    const tls = yield* loadTls(options)

    const platform = yield* Platform.make(settings, [main, ...(options.apps ?? []).map(toApp)])
    const store = yield* AppStore.make
    const faults = yield* FaultRegistry.make(options.faults ?? {})
    const counters = yield* CounterRegistry.make

    const setFrozen = (frozen: boolean) => (appId: string) =>
      Effect.flatMap(
        platform.setFrozen(appId, frozen),
        (found) => found ? Effect.void : Effect.fail(new Cause.NoSuchElementError(`No app ${appId}`))
      )

    const control: Control = {
      registerApp: (app) => platform.registerApp(toApp(app)),
      freezeApp: setFrozen(true),
      unfreezeApp: setFrozen(false),
      revokeTokens: (appId) => appId === undefined ? platform.revokeAll : platform.revoke(appId),
      setFaults: (endpoint, f) =>
        endpoint === "all"
          ? Effect.forEach(endpoints, (e) => faults.set(e, f), { discard: true })
          : faults.set(endpoint, f),
      clearFaults: faults.clear,
      counters: Effect.gen(function*() {
        const table = yield* counters.table
        const sessions = yield* platform.sessions
        const now = yield* Clock.currentTimeMillis
        const tokens: Record<string, TokenSnapshot> = {}
        for (const s of sessions) {
          tokens[s.appId] = {
            appId: s.appId,
            accessToken: Redacted.make(s.accessToken),
            refreshToken: Redacted.make(s.refreshToken),
            issuedAt: s.issuedAt,
            accessTokenExpiresAt: s.accessExpiresAt,
            refreshTokenExpiresAt: s.refreshExpiresAt,
            accessTokenValid: now < s.accessExpiresAt
          }
        }
        const counted: Counters = {
          requests: table,
          logins: table.login["ok"] ?? 0,
          refreshes: table.refresh["ok"] ?? 0,
          businessCalls: businessEndpoints.reduce((sum, endpoint) => sum + (table[endpoint]?.["ok"] ?? 0), 0),
          leniency: yield* counters.leniency,
          tokens
        }
        return counted
      }),
      resetCounters: counters.reset,
      seedDevice: (seed) => seedDevice(platform, store, seed.appId ?? main.appId, seed),
      commands: (appId) =>
        store.read((state, now) =>
          AppStore.commandsOf(state, appId).map((command) => ({
            ...command,
            ...AppStore.commandProgress(command, now, delivery)
          }))
        ),
      subscriptions: (appId) => store.read((state) => AppStore.subscriptionsOf(state, appId))
    }

    const app = yield* Router.make({
      platform,
      store,
      faults,
      counters,
      control,
      settings: {
        maxBodySize,
        delivery,
        appKeyHeader: options.appKeyHeader ?? "app_key",
        businessErrorKeys: options.businessErrorKeys ?? "error_code",
        controlApi: options.controlApi ?? true,
        logRequests: options.logRequests ?? false
      }
    })

    const server: Http.Server = protocol === "https"
      ? Https.createServer({
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        requestCert: mutualTls,
        rejectUnauthorized: mutualTls
      })
      : Http.createServer()

    const httpServer = yield* NodeHttpServer.make(() => server, { port, host }).pipe(
      Effect.mapError((error) => {
        const reason = error.cause instanceof Error ? `: ${error.cause.message}` : ""
        return new SimulatorError({
          reason: "Listen",
          description: `cannot listen on ${host}:${port}${reason}`,
          cause: error
        })
      })
    )
    // No server spans: a fake's spans would only clutter the traces of the program under test, and
    // they were a sixth of the simulator's CPU per request (BENCHMARKS.md).
    yield* httpServer.serve(app).pipe(
      Effect.provideService(HttpMiddleware.TracerDisabledWhen, () => true)
    )
    yield* Effect.sync(() => answerContinue(server, maxBodySize))
    // Runs before the server closes: in-flight requests (a long injected latency) must not hold shutdown.
    yield* Effect.addFinalizer(() => Effect.sync(() => server.closeAllConnections()))
    const boundPort = httpServer.address._tag === "UnixPathAddress" ? port : httpServer.address.port

    const credentials: AppCredentials = { appId: main.appId, secret: main.secret }
    const service: Simulator.Service = {
      baseUrl: `${protocol}://${urlHost(host)}:${boundPort}`,
      port: boundPort,
      protocol,
      mutualTls,
      ca: tls.ca,
      clientCert: tls.clientCert,
      clientKey: tls.clientKey,
      app: credentials,
      ...control
    }
    return service
  })
