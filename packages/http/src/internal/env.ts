/**
 * The `IOCM_*` configuration of the transport, read in this one place: the variables, the files they name
 * (read when the layer is built), and where each option came from, so that an error about an option can
 * name its variable and file.
 *
 * @internal
 */
import * as IocmConfig from "@iocm/core/IocmConfig"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs/promises"
import type { ConfigOption, Options } from "../IocmHttp.js"
import type { Issue } from "./settings.js"

const optionalString = (name: string): Config.Config<Option.Option<string>> =>
  Config.String(name).pipe(
    Config.option,
    Config.map(Option.flatMap((value) => Option.some(value.trim()).pipe(Option.filter((s) => s !== ""))))
  )

const optionalRedacted = (name: string): Config.Config<Option.Option<Redacted.Redacted<string>>> =>
  Config.Redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== ""))
  )

const firstSome = <A>(...configs: Array<Config.Config<Option.Option<A>>>): Config.Config<Option.Option<A>> =>
  Config.all(configs).pipe(
    Config.map((values) => values.reduce((acc, next) => Option.orElse(acc, () => next), Option.none<A>()))
  )

const booleanWords = new Map([
  ["true", true],
  ["yes", true],
  ["on", true],
  ["1", true],
  ["false", false],
  ["no", false],
  ["off", false],
  ["0", false]
])

const normalize = (value: string): string => value.trim().toLowerCase()

/** A boolean variable: true or false, also yes/no, on/off, 1/0, in any case. */
const boolean = (name: string): Config.Config<boolean> =>
  Config.schema(
    Schema.String.pipe(Schema.check(Schema.makeFilter((value) =>
      booleanWords.has(normalize(value)) || `${name}: expected true or false (also yes/no, on/off, 1/0)`
    ))),
    name
  ).pipe(Config.map((value) =>
    booleanWords.get(normalize(value)) === true
  ))

const variables = Config.all({
  caFiles: optionalString("IOCM_CA_FILE").pipe(
    Config.map(Option.map((value) => value.split(",").map((path) => path.trim()).filter((path) => path !== "")))
  ),
  certFile: optionalString("IOCM_CERT_FILE"),
  keyFile: optionalString("IOCM_KEY_FILE"),
  pfxFile: optionalString("IOCM_PFX_FILE"),
  passphrase: Config.option(Config.Redacted("IOCM_PASSPHRASE")),
  verifyHostname: Config.option(boolean("IOCM_VERIFY_HOSTNAME")),
  serverName: optionalString("IOCM_SERVER_NAME"),
  timeout: IocmConfig.timeout.pipe(Config.map(Option.fromNullishOr)),
  connectTimeout: Config.option(IocmConfig.duration("IOCM_CONNECT_TIMEOUT")),
  connections: Config.option(Config.Int("IOCM_CONNECTIONS")),
  proxy: firstSome(optionalRedacted("HTTPS_PROXY"), optionalRedacted("https_proxy")),
  noProxy: firstSome(optionalString("NO_PROXY"), optionalString("no_proxy"))
})

type Variables = Config.Success<typeof variables>

/** Where an option came from: its variable and, for a file, the file's path. */
interface Origin {
  readonly variable: string
  readonly path?: string | undefined
}

/** The origin of each option of the `Options` this module made. */
const origins = new WeakMap<Options, Partial<Record<ConfigOption, Origin>>>()

const originsOf = (env: Variables): Partial<Record<ConfigOption, Origin>> => {
  const path = (file: Option.Option<string>) => Option.getOrUndefined(file)
  return {
    ca: { variable: "IOCM_CA_FILE", path: Option.getOrUndefined(Option.map(env.caFiles, (files) => files.join(","))) },
    cert: { variable: "IOCM_CERT_FILE", path: path(env.certFile) },
    key: { variable: "IOCM_KEY_FILE", path: path(env.keyFile) },
    pfx: { variable: "IOCM_PFX_FILE", path: path(env.pfxFile) },
    passphrase: { variable: "IOCM_PASSPHRASE", path: path(Option.orElse(env.pfxFile, () => env.keyFile)) },
    verifyHostname: { variable: "IOCM_VERIFY_HOSTNAME" },
    serverName: { variable: "IOCM_SERVER_NAME" },
    timeout: { variable: "IOCM_TIMEOUT" },
    connectTimeout: { variable: "IOCM_CONNECT_TIMEOUT" },
    connections: { variable: "IOCM_CONNECTIONS" },
    proxy: { variable: "HTTPS_PROXY" },
    noProxy: { variable: "NO_PROXY" }
  }
}

/**
 * The issue with the variable and file of its option, when the options came from `config`.
 *
 * @internal
 */
export const locate = (options: Options, issue: Issue): Issue => ({ ...issue, ...origins.get(options)?.[issue.option] })

const fileReason = (cause: unknown): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined
  switch (code) {
    case "ENOENT":
      return "file not found"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "EISDIR":
      return "is a directory, not a file"
    default:
      return `cannot read the file${typeof code === "string" ? ` (${code})` : ""}`
  }
}

const readFile = (variable: string, path: string): Effect.Effect<Buffer, Config.ConfigError> =>
  Effect.tryPromise({
    try: () => Fs.readFile(path),
    catch: (cause) =>
      new Config.ConfigError(
        new ConfigProvider.SourceError({ message: `${variable} (${path}): ${fileReason(cause)}`, cause })
      )
  })

const readOptional = (variable: string, path: Option.Option<string>) =>
  Option.match(path, {
    onNone: () => Effect.succeed(undefined),
    onSome: (path) => readFile(variable, path)
  })

const readCa = (files: Option.Option<ReadonlyArray<string>>) =>
  Option.match(Option.filter(files, (files) => files.length > 0), {
    onNone: () => Effect.succeed(undefined),
    onSome: (files) =>
      Effect.map(
        Effect.forEach(files, (path) => readFile("IOCM_CA_FILE", path)),
        (pems) => pems.length === 1 ? pems[0] : pems
      )
  })

const redacted = <A>(value: A | undefined): Redacted.Redacted<A> | undefined =>
  value === undefined ? undefined : Redacted.make(value)

/** The options the variables give, their files read. */
const toOptions = (env: Variables): Effect.Effect<Options, Config.ConfigError> =>
  Effect.gen(function*() {
    const options: Options = {
      ca: yield* readCa(env.caFiles),
      cert: yield* readOptional("IOCM_CERT_FILE", env.certFile),
      key: redacted(yield* readOptional("IOCM_KEY_FILE", env.keyFile)),
      pfx: redacted(yield* readOptional("IOCM_PFX_FILE", env.pfxFile)),
      passphrase: Option.getOrUndefined(env.passphrase),
      verifyHostname: Option.getOrUndefined(env.verifyHostname),
      serverName: Option.getOrUndefined(env.serverName),
      timeout: Option.getOrUndefined(env.timeout),
      connectTimeout: Option.getOrUndefined(env.connectTimeout),
      connections: Option.getOrUndefined(env.connections),
      proxy: Option.getOrUndefined(env.proxy),
      noProxy: Option.getOrUndefined(env.noProxy)
    }
    origins.set(options, originsOf(env))
    return options
  })

/**
 * The options from the `IOCM_*` variables (and `HTTPS_PROXY`, `NO_PROXY`), with the files they name read.
 *
 * @internal
 */
export const config: Config.Config<Options> = variables.pipe(Config.mapEffect(toOptions))
