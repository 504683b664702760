/**
 * `iocm doctor`: runs the checks of `checks.ts` in order, one line each on stdout as it completes —
 * `ok` with what it found, or `FAIL` with what is wrong and the fix — and stops at the first
 * failure, marking the steps after it `skipped`. Exits 0 only when every step passed, else with
 * the class of the failure (`ExitCode`). Nothing secret is printed.
 *
 * @internal
 */
import * as Command from "effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Checks from "./checks.js"
import { DoctorFailed } from "./errors.js"
import * as Settings from "./settings.js"

const steps = [
  "base URL",
  "TLS settings",
  "DNS",
  "TCP connect",
  "TLS handshake",
  "TLS chain",
  "host name",
  "client certificate",
  "login"
] as const

type Step = (typeof steps)[number]

const line = (status: string, step: string, text: string): string =>
  `${status.padEnd(8)}${step.padEnd(20)}${text}`.trimEnd()

const after = (step: Step): ReadonlyArray<Step> => steps.slice(steps.indexOf(step) + 1)

/** Prints `skipped` for `skippedSteps`, saying why. */
const skip = (skippedSteps: ReadonlyArray<Step>, reason: string): Effect.Effect<void> =>
  Console.log(skippedSteps.map((step) => line("skipped", step, reason)).join("\n"))

/**
 * Runs one step: prints its `ok` line and gives its value, or prints its `FAIL` line with the fix,
 * marks the remaining steps `skipped` and fails with the class of the failure.
 */
const check = <A, R>(step: Step, self: Effect.Effect<Checks.Passed<A>, Checks.CheckFailed, R>) =>
  self.pipe(
    Effect.tap((result) => Console.log(line("ok", step, result.detail))),
    Effect.map((result) => result.value),
    Effect.catchTag("CheckFailed", (failure) =>
      Console.log([line("FAIL", step, failure.problem), line("", "", `fix: ${failure.fix}`)].join("\n")).pipe(
        Effect.andThen(skip(after(step), "(after a failure)")),
        Effect.andThen(Effect.fail(new DoctorFailed({ step, code: failure.code })))
      ))
  )

/** The TLS steps, on one session kept open from the handshake to the client certificate's verdict. */
const tlsSteps = (url: URL, transport: Checks.Transport) =>
  Effect.scoped(Effect.gen(function*() {
    const session = yield* check("TLS handshake", Checks.handshake(url, transport))
    yield* check("TLS chain", Checks.chain(url, session, transport))
    yield* check("host name", Checks.hostName(url, session, transport))
    yield* check("client certificate", Checks.clientCertificate(url, session, transport))
  }))

/** The steps between this machine and the platform, up to TLS; through a proxy, the login checks them. */
const networkSteps = (url: URL, transport: Checks.Transport) =>
  Effect.gen(function*() {
    if (transport.options.proxy !== undefined) {
      return yield* skip(
        ["DNS", "TCP connect", "TLS handshake", "TLS chain", "host name", "client certificate"],
        "through the proxy of HTTPS_PROXY: the login checks the whole path"
      )
    }
    yield* check("DNS", Checks.dns(url, transport))
    yield* check("TCP connect", Checks.tcp(url, transport))
    if (url.protocol === "https:") return yield* tlsSteps(url, transport)
    yield* skip(["TLS handshake", "TLS chain", "host name", "client certificate"], "plain http: no TLS to check")
  })

const run = (input: Settings.Input & { readonly skipLogin: boolean }) =>
  Effect.scoped(Effect.gen(function*() {
    const url = yield* check("base URL", Checks.baseUrl)
    const transport = yield* check("TLS settings", Checks.tlsSettings)
    yield* networkSteps(url, transport)
    if (input.skipLogin) yield* skip(["login"], "--skip-login")
    else yield* check("login", Checks.login(transport))
    yield* Console.log(input.skipLogin ? "every check run passed" : "every check passed")
  })).pipe(Settings.withFlags(input))

/**
 * The `doctor` command.
 *
 * @internal
 */
export const command = Command.make("doctor", {
  ...Settings.flags,
  skipLogin: Settings.switchFlag("skip-login", "do not log in (a login invalidates the app's current access token)")
}, run).pipe(
  Command.withDescription(
    "Checks, step by step, what stands between this machine and the platform, with the settings the app uses\n" +
      "  (the IOCM_* variables): the base URL, the TLS files, DNS, a TCP connection, the TLS handshake, the server's\n" +
      "  certificate chain against IOCM_CA_FILE, its name (or IOCM_SERVER_NAME), whether the server accepts the\n" +
      "  client certificate, and a login. Each line is ok, or FAIL with the fix; it stops at the first failure and\n" +
      "  exits 0 only when every check passed, else with the class of the failure. It never prints a secret;\n" +
      "  the login invalidates the app's current access token (--skip-login leaves it out)."
  ),
  Command.withShortDescription("check DNS, TCP, TLS, the client certificate and the credentials, step by step")
)
