/**
 * The flags every platform command takes, each another spelling of an `IOCM_*` variable, and the
 * layers those commands run on. A flag that is given is put in front of the environment as a
 * `ConfigProvider`, so that each `layerConfig` of iocm still reads every variable in its one place
 * (and names the variable in its errors). Secrets (`IOCM_SECRET`, `IOCM_PASSPHRASE`,
 * `IOCM_STORE_KEY`, `IOCM_REFRESH_TOKEN`, `IOCM_REDIS_URL` with its password) have no flag: a
 * command line is seen by every user of the machine (`ps`) and kept in shell histories.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as IocmHttp from "@iocm/http/IocmHttp"
import * as Flag from "effect/cli/Flag"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** A flag spelling the variable `variable`. */
const spelling = (name: string, variable: string, metavar: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withMetavar(metavar),
    Flag.optional,
    Flag.withDescription(`${description} (${variable})`)
  )

/**
 * The flags of the platform's settings, keyed by the variable each one spells.
 *
 * @internal
 */
/** A switch of one command, off unless given (no `--no-…` form). */
export const switchFlag = (name: string, description: string) =>
  Flag.Boolean(name).pipe(Flag.withoutNegation, Flag.withDefault(false), Flag.withDescription(description))

export const flags = {
  IOCM_BASE_URL: spelling("base-url", "IOCM_BASE_URL", "url", "the platform's address, e.g. https://203.0.113.10:8743"),
  IOCM_APP_ID: spelling(
    "app-id",
    "IOCM_APP_ID",
    "id",
    "the application's appId; its secret is read from IOCM_SECRET only"
  ),
  IOCM_CA_FILE: spelling("ca-file", "IOCM_CA_FILE", "files", "the platform's CA bundle, PEM, comma separated"),
  IOCM_CERT_FILE: spelling("cert-file", "IOCM_CERT_FILE", "file", "the client certificate, PEM"),
  IOCM_KEY_FILE: spelling("key-file", "IOCM_KEY_FILE", "file", "the client certificate's key, PEM"),
  IOCM_PFX_FILE: spelling("pfx-file", "IOCM_PFX_FILE", "file", "the client certificate and key as PKCS#12"),
  IOCM_SERVER_NAME: spelling("server-name", "IOCM_SERVER_NAME", "name", "the name the server certificate must carry"),
  IOCM_TIMEOUT: spelling("timeout", "IOCM_TIMEOUT", "d", "the bound on each request, e.g. 30 or \"30 seconds\""),
  IOCM_CONNECT_TIMEOUT: spelling("connect-timeout", "IOCM_CONNECT_TIMEOUT", "d", "the bound on connecting")
}

/**
 * The values of the settings' flags.
 *
 * @internal
 */
export type Input = { readonly [K in keyof typeof flags]: Option.Option<string> }

/**
 * Runs `self` with the given flags in front of the environment.
 *
 * @internal
 */
export const withFlags = (input: Input) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const given: Record<string, string> = {}
  for (const variable of Object.keys(flags) as Array<keyof typeof flags>) {
    const value = input[variable]
    if (Option.isSome(value)) given[variable] = value.value
  }
  return Effect.provide(self, ConfigProvider.layerAdd(ConfigProvider.fromEnvRecord(given), { asPrimary: true }))
}

/**
 * `IocmAuth` on the platform and the undici transport of the `IOCM_*` variables, with its settings.
 *
 * @internal
 */
export const layerAuth = IocmAuth.layer.pipe(
  Layer.provideMerge(Layer.merge(PlatformConfig.layerConfig(), IocmHttp.layerConfig()))
)

/**
 * Says on stderr, before it happens, that a login or a refresh invalidates the app's current access
 * token wherever it is used: the platform keeps one valid token per app.
 *
 * @internal
 */
export const warnInvalidation = (command: string, call: "login" | "refresh", appId: string): Effect.Effect<void> =>
  Console.error(
    `iocm ${command}: ${call === "login" ? "logging in" : "refreshing the token"} as ${appId}: this invalidates ` +
      "the access token every other holder of the app's token uses, running processes included (the platform " +
      "keeps one valid token per app)" +
      (command === "token" ? "; with IOCM_REDIS_URL set, iocm token reads the fleet's token instead" : "")
  )
