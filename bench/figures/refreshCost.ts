/**
 * Refresh cost: `IocmAuth.refresh` over HTTPS with keep-alive (our transport, `IocmHttp.layer`
 * with the test CA and client certificate), against a raw undici POST of the same JSON body
 * followed by `JSON.parse`, with the same TLS setup (an undici `Agent` with the same CA and client
 * certificate). Each side refreshes its own app on the simulator, always with its newest refresh
 * token (they are single use). A round is 100 sequential refreshes; its value is their mean
 * latency. ratio = ours / baseline latency; target ≤ 1.25.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Figure, FigureResult } from "../harness.js"
import { compare, progress, round, samples, timed } from "../harness.js"
import { authLayer, httpLayer } from "../network.js"
import { app } from "../servers/protocol.js"
import { type Remote, Servers } from "../servers/remote.js"
import { type Pems, readPems } from "../support.js"

const PER_ROUND = 100

interface RawTokens {
  readonly accessToken: string
  readonly refreshToken: string
}

/** The baseline: undici's `request`, the body read as text, `JSON.parse`. */
const rawClient = (dispatcher: Undici.Dispatcher, baseUrl: string, name = "baseline") => {
  const credentials = app(name)
  const post = async (path: string, contentType: string, body: string): Promise<RawTokens> => {
    const response = await Undici.request(baseUrl + path, {
      dispatcher,
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json" },
      body
    })
    const json = JSON.parse(await response.body.text()) as RawTokens
    if (response.statusCode !== 200) throw new Error(`baseline answered ${response.statusCode}`)
    return json
  }
  return {
    login: () =>
      post(
        Wire.loginPath,
        "application/x-www-form-urlencoded",
        new URLSearchParams({ appId: credentials.appId, secret: credentials.secret }).toString()
      ),
    refresh: (refreshToken: string) =>
      post(
        Wire.refreshPath,
        "application/json",
        JSON.stringify({ appId: credentials.appId, secret: credentials.secret, refreshToken })
      )
  }
}

/**
 * A layer of the stack between the two: the same refresh (same body, `text`, `JSON.parse`) through an
 * `HttpClient` — `@effect/platform`'s undici client on the baseline's `Agent`, or our `IocmHttp`
 * client — for its own app, so that each layer's cost can be read off.
 */
const layerClient = (client: HttpClient.HttpClient, baseUrl: string, name: string) => {
  const credentials = app(name)
  return (refreshToken: string) =>
    client.execute(
      HttpClientRequest.post(baseUrl + Wire.refreshPath).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyUnsafeJson({ appId: credentials.appId, secret: credentials.secret, refreshToken })
      )
    ).pipe(
      Effect.flatMap((response) => response.text),
      Effect.map((text) => JSON.parse(text) as RawTokens)
    )
}

const measure = (remote: Remote, pems: Pems) =>
  Effect.gen(function*() {
    yield* progress(`refresh cost: IocmAuth.refresh vs raw undici POST + JSON.parse, ${PER_ROUND} per round`)
    const auth = yield* IocmAuth.IocmAuth
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent({ connect: { ca: pems.ca, cert: pems.clientCert, key: pems.clientKey } })),
      (agent) => Effect.promise(() => agent.close())
    )
    const raw = rawClient(agent, remote.info.simulator)
    let ours = yield* auth.login
    let theirs = yield* Effect.promise(() => raw.login())
    const oursRound = Effect.map(
      timed(Effect.gen(function*() {
        for (let i = 0; i < PER_ROUND; i++) {
          ours = yield* auth.refresh(Option.getOrThrow(ours.refreshToken))
        }
      })),
      ([millis]) => millis / PER_ROUND
    )
    const baselineRound = Effect.map(
      timed(Effect.promise(async () => {
        for (let i = 0; i < PER_ROUND; i++) {
          theirs = await raw.refresh(theirs.refreshToken)
        }
      })),
      ([millis]) => millis / PER_ROUND
    )
    const comparison = yield* compare({
      label: "refresh cost",
      warmup: 3,
      rounds: 15,
      ours: oursRound,
      baseline: baselineRound,
      ratio: (ours, baseline) => ours / baseline
    })
    // The layers in between, each against the same baseline.
    const layerRound = (refresh: (token: string) => Effect.Effect<RawTokens, unknown>, first: RawTokens) => {
      let tokens = first
      return Effect.map(
        timed(Effect.gen(function*() {
          for (let i = 0; i < PER_ROUND; i++) {
            tokens = yield* refresh(tokens.refreshToken)
          }
        })),
        ([millis]) => millis / PER_ROUND
      )
    }
    const layer = (
      name: string,
      refresh: (refreshToken: string) => Effect.Effect<RawTokens, unknown>
    ) =>
      Effect.gen(function*() {
        const first = yield* Effect.promise(() => rawClient(agent, remote.info.simulator, name).login())
        return yield* compare({
          label: `refresh cost (${name})`,
          warmup: 1,
          rounds: 7,
          ours: layerRound(refresh, first),
          baseline: baselineRound,
          ratio: (ours, baseline) => ours / baseline
        })
      })
    const client = yield* HttpClient.HttpClient
    const simulator = remote.info.simulator
    const effectUndici = yield* layer(
      "effect-undici",
      layerClient(NodeHttpClient.makeUndici(agent), simulator, "effect-undici")
    )
    const iocmHttp = yield* layer("iocm-http", layerClient(client, simulator, "iocm-http"))
    const ratio = comparison.ratioMedian
    const result: FigureResult = {
      name: "refresh cost",
      ours: round(comparison.oursMedian),
      baseline: round(comparison.baselineMedian),
      unit: "ms",
      ratioDefinition: "ours / baseline median latency (IocmAuth.refresh vs raw undici POST + JSON.parse)",
      ratio: round(ratio, 3),
      target: "ratio ≤ 1.25",
      pass: ratio <= 1.25,
      rounds: comparison.ours.length,
      details: {
        perRound: PER_ROUND,
        extraMicrosPerRefresh: round((comparison.oursMedian - comparison.baselineMedian) * 1000, 3),
        stack: {
          what: "the same refresh (body, text, JSON.parse) one layer at a time, each for its own app, each " +
            "interleaved with the baseline; ratio against the baseline",
          rawUndici: { ms: round(comparison.baselineMedian), ratio: 1 },
          effectPlatformUndici: { ms: round(effectUndici.oursMedian), ratio: round(effectUndici.ratioMedian, 3) },
          iocmHttp: { ms: round(iocmHttp.oursMedian), ratio: round(iocmHttp.ratioMedian, 3) },
          iocmAuth: { ms: round(comparison.oursMedian), ratio: round(comparison.ratioMedian, 3) }
        },
        ...samples(comparison)
      }
    }
    return result
  })

export const figure: Figure<Servers> = {
  id: "refresh-cost",
  run: Effect.gen(function*() {
    const remote = yield* (yield* Servers).get
    const pems = readPems()
    return yield* Effect.scoped(measure(remote, pems)).pipe(
      Effect.provide(authLayer(remote.info.simulator, "ours").pipe(Layer.provideMerge(httpLayer(pems))))
    )
  })
}
