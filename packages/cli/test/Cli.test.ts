/**
 * The `iocm` command line as a whole, the built bin run as a process: help, version, completions,
 * usage errors (exit 2, on stderr only), and `iocm simulator`, the simulator's own command.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@iocm/simulator"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { root } from "./utils/build.js"
import { bin, cleanEnv, iocm } from "./utils/iocm.js"

const version = (JSON.parse(Fs.readFileSync(Path.join(root, "packages", "cli", "package.json"), "utf8")) as {
  readonly version: string
}).version

describe("iocm", () => {
  it.live("--help lists the commands; each command's --help its flags and their variables; no command: help", () =>
    Effect.gen(function*() {
      const [help, bare, token, doctor] = yield* Effect.all([
        iocm(["--help"]),
        iocm([]),
        iocm(["token", "--help"]),
        iocm(["doctor", "-h"])
      ], { concurrency: 4 })
      for (const run of [help, bare, token, doctor]) assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(bare.stdout, help.stdout)
      for (const command of ["token", "doctor", "login", "refresh", "simulator"]) assert.include(help.stdout, command)
      for (const flag of ["--header", "--json", "--base-url", "IOCM_BASE_URL", "--ca-file", "IOCM_CA_FILE"]) {
        assert.include(token.stdout, flag)
      }
      assert.include(doctor.stdout, "--skip-login")
    }))

  it.live("--version prints the package's version; --completions a shell script", () =>
    Effect.gen(function*() {
      const [printed, completions] = yield* Effect.all([iocm(["--version"]), iocm(["--completions", "bash"])])
      assert.strictEqual(printed.code, 0)
      assert.strictEqual(printed.stdout, `${version}\n`)
      assert.strictEqual(completions.code, 0)
      assert.include(completions.stdout, "iocm")
      assert.include(completions.stdout, "doctor")
    }))

  it.live("usage errors: exit 2, said on stderr with a pointer to the help, nothing on stdout", () =>
    Effect.gen(function*() {
      const [unknown, flag, value, missing] = yield* Effect.all([
        iocm(["nope"]),
        iocm(["token", "--bogus"]),
        iocm(["simulator", "--port", "http"]),
        iocm(["token", "--base-url"])
      ], { concurrency: 4 })
      for (const run of [unknown, flag, value, missing]) {
        assert.strictEqual(run.code, 2, run.stderr)
        assert.strictEqual(run.stdout, "")
        assert.match(run.stderr, /^iocm: /)
      }
      assert.include(unknown.stderr, "Unknown subcommand \"nope\"")
      assert.include(unknown.stderr, "Run \"iocm --help\" for the commands.")
      assert.include(flag.stderr, "Unrecognized flag: --bogus")
      assert.include(flag.stderr, "Run \"iocm token --help\" for its flags.")
      assert.include(value.stderr, "--port must be a whole number between 0 and 65535, got \"http\"")
      assert.include(missing.stderr, "Missing value for flag --base-url")
    }))

  it.live("iocm simulator: the simulator's command, its --json ready line alone on stdout; SIGTERM stops it", () =>
    Effect.gen(function*() {
      const child = ChildProcess.spawn(process.execPath, [bin, "simulator", "--port", "0", "--json", "--quiet"], {
        cwd: root,
        env: cleanEnv({}),
        stdio: ["ignore", "pipe", "pipe"]
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))
      const lines: Array<string> = []
      const ready = yield* Effect.callback<Record<string, unknown>, Error>((resume) => {
        Readline.createInterface({ input: child.stdout }).on("line", (line) => {
          lines.push(line)
          if (lines.length === 1) resume(Effect.succeed(JSON.parse(line) as Record<string, unknown>))
        })
        child.on("exit", (code) => resume(Effect.fail(new Error(`iocm simulator exited with ${code}`))))
      }).pipe(Effect.timeout("20 seconds"))
      assert.match(String(ready["baseUrl"]), /^https:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(ready["appId"], "iocm-demo-app")
      const exited = Effect.callback<number | null>((resume) => {
        child.on("exit", (code) => resume(Effect.succeed(code)))
      })
      child.kill("SIGTERM")
      assert.strictEqual(yield* exited.pipe(Effect.timeout("10 seconds")), 130)
      assert.deepStrictEqual(lines.length, 1)
    }).pipe(Effect.scoped))

  it.live("iocm simulator on a port in use: exit 3, why on stderr", () =>
    Effect.gen(function*() {
      const busy = yield* Simulator.make({ protocol: "http" })
      const run = yield* iocm(["simulator", "--http", "--json", "--port", String(busy.port)])
      assert.strictEqual(run.code, 3, run.stderr)
      assert.match(run.stderr, /^iocm: Simulator failed to start \(Listen\)/)
      assert.strictEqual(run.stdout, "")
    }).pipe(Effect.scoped))
})
