/**
 * The clients the layers provide: the platform's undici client on our dispatcher, and any runtime's fetch
 * client, each with described errors and one deadline per request.
 *
 * @internal
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as Scope from "effect/Scope"
import type { Options } from "../IocmHttp.js"
import * as Deadline from "./deadline.js"
import * as Describe from "./describe.js"
import * as Dispatcher from "./dispatcher.js"
import * as Settings from "./settings.js"

/**
 * The undici client for `options`; its connection pool is closed when the scope closes.
 *
 * @internal
 */
export const make = (options: Options): Effect.Effect<HttpClient.HttpClient, Settings.Issue, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* Effect.fromResult(Settings.resolve(options))
    const dispatcher = yield* Dispatcher.make(settings)
    const client = yield* Effect.provideService(NodeHttpClient.makeUndici, NodeHttpClient.Dispatcher, dispatcher)
    return client.pipe(
      Describe.describeErrors({ connectTimeout: settings.connectTimeout }),
      Deadline.withTimeout(settings.timeout)
    )
  })

/**
 * The fetch client in context, with the default request timeout.
 *
 * @internal
 */
export const fromFetch: Effect.Effect<HttpClient.HttpClient, never, HttpClient.HttpClient> = Effect.map(
  HttpClient.HttpClient,
  (client) => client.pipe(Describe.describeErrors({}), Deadline.withTimeout(Settings.defaultTimeout))
)
