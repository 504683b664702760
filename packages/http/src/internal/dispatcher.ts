/**
 * The undici dispatcher of the Node layers: an `Agent` (or, behind a proxy, an `EnvHttpProxyAgent` given
 * every setting explicitly), with the secure context, the connect timeout and the pool of the settings.
 *
 * Undici's header and body timeouts are left as `@effect/platform-node`'s `makeUndici` sets them (off):
 * the request's one deadline is `withTimeout`'s. The connect timeout is undici's, as it bounds the TCP and
 * TLS handshake of a connection, which several requests may wait on.
 *
 * @internal
 */
import * as Undici from "@effect/platform-node/Undici"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Settings } from "./settings.js"

const millis = (duration: Duration.Duration): number => Math.ceil(Duration.toMillis(duration))

/** What undici hands to `tls.connect`, with the time allowed for the handshake. */
const connectOptions = (settings: Settings) => ({ ...settings.tls, timeout: millis(settings.connectTimeout) })

const poolOptions = (settings: Settings, connect: ReturnType<typeof connectOptions>): Undici.Agent.Options => {
  if (settings.keepAliveTimeout === undefined) return { connections: settings.connections, connect }
  const keepAlive = millis(settings.keepAliveTimeout)
  // also caps the server's Keep-Alive hint, so that no idle connection outlives the setting
  return { connections: settings.connections, connect, keepAliveTimeout: keepAlive, keepAliveMaxTimeout: keepAlive }
}

const makeAgent = (settings: Settings): Undici.Dispatcher => {
  const connect = connectOptions(settings)
  const pool = poolOptions(settings, connect)
  if (settings.proxy === undefined) return new Undici.Agent(pool)
  return new Undici.EnvHttpProxyAgent({
    ...pool,
    // Given explicitly, so that undici never falls back to the process environment.
    httpProxy: settings.proxy.href,
    httpsProxy: settings.proxy.href,
    noProxy: settings.noProxy,
    requestTls: connect,
    proxyTls: { timeout: millis(settings.connectTimeout) }
  })
}

/**
 * The dispatcher for `settings`, destroyed (its connections closed) when the scope closes.
 *
 * @internal
 */
export const make = (settings: Settings): Effect.Effect<Undici.Dispatcher, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeAgent(settings)),
    (dispatcher) => Effect.promise(() => dispatcher.destroy())
  )
