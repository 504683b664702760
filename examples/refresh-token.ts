/**
 * `pnpm example refresh-token`: logs in, then refreshes, once — or, when `IOCM_REFRESH_TOKEN` is
 * set, refreshes that token without logging in. Talks to the platform named by `IOCM_BASE_URL`,
 * `IOCM_APP_ID`, `IOCM_SECRET` and the TLS variables of `@iocm/http` (`IOCM_CA_FILE`,
 * `IOCM_CERT_FILE`, `IOCM_KEY_FILE`, `IOCM_PFX_FILE`, `IOCM_PASSPHRASE`, `IOCM_VERIFY_HOSTNAME`,
 * `IOCM_TIMEOUT`, `HTTPS_PROXY`), or to an embedded simulator when `IOCM_BASE_URL` is unset.
 *
 * Its last line on stdout is one JSON object: `{"ok":true,"tokenType",…}` with the tokens masked,
 * or `{"ok":false,"error":"<_tag>","code",…,"httpStatus",…}` with exit status 1 (the error's
 * message goes to stderr).
 */
import { IocmAuth } from "@iocm/core"
import type { TokenSet } from "@iocm/core/TokenSet"
import { Cause, Config, Effect, Exit, Option, Redacted } from "effect"
import * as Platform from "./src/Platform.js"

const refreshTokenFromEnv = Config.option(Config.Redacted("IOCM_REFRESH_TOKEN"))

const loginThenRefresh = Effect.gen(function*() {
  const auth = yield* IocmAuth.IocmAuth
  const given = yield* refreshTokenFromEnv
  if (Option.isSome(given)) {
    return yield* auth.refresh(given.value)
  }
  const first = yield* auth.login
  return yield* Option.match(first.refreshToken, {
    onNone: () => Effect.succeed(first),
    onSome: auth.refresh
  })
})

const success = (tokens: TokenSet) => ({
  ok: true,
  tokenType: tokens.tokenType,
  expiresIn: tokens.expiresIn,
  scope: tokens.scope,
  accessToken: Platform.mask(Redacted.value(tokens.accessToken)),
  refreshToken: Option.match(tokens.refreshToken, {
    onNone: () => null,
    onSome: (t) => Platform.mask(Redacted.value(t))
  })
})

const failure = (error: unknown) => {
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    readonly _tag?: unknown
    readonly code?: unknown
    readonly httpStatus?: unknown
  }
  return {
    ok: false,
    error: typeof fields._tag === "string" ? fields._tag : "Unknown",
    code: typeof fields.code === "string" ? fields.code : null,
    httpStatus: typeof fields.httpStatus === "number" ? fields.httpStatus : null
  }
}

/** The line the example writes to stderr when it fails. */
const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

const exit = await Effect.runPromiseExit(
  loginThenRefresh.pipe(
    Effect.provide(IocmAuth.layer),
    Effect.provide(Platform.layer()),
    Effect.provide(Platform.environment)
  )
)
if (Exit.isSuccess(exit)) {
  process.stdout.write(`${JSON.stringify(success(exit.value))}\n`)
  process.exit(0)
}
const error = Cause.squash(exit.cause)
process.stderr.write(`${messageOf(error)}\n`)
process.stdout.write(`${JSON.stringify(failure(error))}\n`)
process.exit(1)
