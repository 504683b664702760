/**
 * Refresh cost: `IocmAuth.refresh` over HTTPS with keep-alive (our transport, `IocmHttp.layer`
 * with the test CA and client certificate), against the platform's own undici client
 * (`@effect/platform-node`'s `NodeHttpClient.makeUndici`) on an undici `Agent` with the same CA and
 * client certificate, POSTing the same JSON body and reading it with `text` + `JSON.parse`: what our
 * layers add on top of the client they are built on. Each side refreshes its own app on the
 * simulator, always with its newest refresh token (they are single use). A round is 100 sequential
 * refreshes; its value is their mean latency. ratio = ours / baseline latency; target ≤ 1.15.
 *
 * The details place every layer against a raw undici `request` of the same body on the same
 * `Agent` (the `stack`), `IocmAuth.refresh` included: its ratio to raw undici.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Comparison, Figure, FigureResult } from "../harness.js"
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

/** Raw undici: `request`, the body read as text, `JSON.parse`. */
const rawClient = (dispatcher: Undici.Dispatcher, baseUrl: string, name: string) => {
  const credentials = app(name)
  const post = async (path: string, contentType: string, body: string): Promise<RawTokens> => {
    const response = await Undici.request(baseUrl + path, {
      dispatcher,
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json" },
      body
    })
    const json = JSON.parse(await response.body.text()) as RawTokens
    if (response.statusCode !== 200) throw new Error(`raw undici (${name}) answered ${response.statusCode}`)
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
 * The same refresh (same body, `text`, `JSON.parse`) through an `HttpClient`: the platform's undici
 * client on the raw `Agent`, or our `IocmHttp` client.
 */
const clientRefresh = (client: HttpClient.HttpClient, baseUrl: string, name: string) => {
  const credentials = app(name)
  return (refreshToken: string) =>
    client.execute(
      HttpClientRequest.post(baseUrl + Wire.refreshPath).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyJsonUnsafe({ appId: credentials.appId, secret: credentials.secret, refreshToken })
      )
    ).pipe(
      Effect.flatMap((response) => response.text),
      Effect.map((text) => JSON.parse(text) as RawTokens)
    )
}

/**
 * A round of `PER_ROUND` sequential refreshes of one app, each with the refresh token the previous
 * one returned (kept between rounds, so that the same round can run in several series); its value
 * is the mean latency, ms.
 */
const refreshRound = <T, E>(first: T, refresh: (tokens: T) => Effect.Effect<T, E>): Effect.Effect<number, E> => {
  let tokens = first
  return Effect.map(
    timed(Effect.gen(function*() {
      for (let i = 0; i < PER_ROUND; i++) {
        tokens = yield* refresh(tokens)
      }
    })),
    ([millis]) => millis / PER_ROUND
  )
}

const measure = (remote: Remote, pems: Pems) =>
  Effect.gen(function*() {
    yield* progress(
      `refresh cost: IocmAuth.refresh vs the platform's undici client on the same Agent, ${PER_ROUND} per round`
    )
    const simulator = remote.info.simulator
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent({ connect: { ca: pems.ca, cert: pems.clientCert, key: pems.clientKey } })),
      (agent) => Effect.promise(() => agent.close())
    )
    const login = (name: string) => Effect.promise(() => rawClient(agent, simulator, name).login())
    // a layer of the stack: the same refresh through an HttpClient, for its own app
    const clientRound = (client: HttpClient.HttpClient, name: string) =>
      Effect.map(login(name), (first) => {
        const refresh = clientRefresh(client, simulator, name)
        return refreshRound(first, (tokens) => refresh(tokens.refreshToken))
      })

    const auth = yield* IocmAuth.IocmAuth
    const oursRound = refreshRound(
      yield* auth.login,
      (tokens) => auth.refresh(Option.getOrThrow(tokens.refreshToken))
    )
    const platformClient = yield* Effect.provideService(NodeHttpClient.makeUndici, NodeHttpClient.Dispatcher, agent)
    const platformRound = yield* clientRound(platformClient, "effect-undici")
    const iocmHttpRound = yield* clientRound(yield* HttpClient.HttpClient, "iocm-http")
    const raw = rawClient(agent, simulator, "baseline")
    const rawRound = refreshRound(
      yield* login("baseline"),
      (tokens) => Effect.promise(() => raw.refresh(tokens.refreshToken))
    )

    const comparison = yield* compare({
      label: "refresh cost",
      warmup: 3,
      rounds: 15,
      ours: oursRound,
      baseline: platformRound,
      ratio: (ours, baseline) => ours / baseline
    })
    // Every layer against raw undici, each in its own interleaved series.
    const againstRaw = (label: string, layerRound: Effect.Effect<number, unknown>) =>
      compare({
        label: `refresh cost (${label} vs raw undici)`,
        warmup: 1,
        rounds: 7,
        ours: layerRound,
        baseline: rawRound,
        ratio: (ours, baseline) => ours / baseline
      })
    const platformStep = yield* againstRaw("effect-undici", platformRound)
    const iocmHttpStep = yield* againstRaw("iocm-http", iocmHttpRound)
    const iocmAuthStep = yield* againstRaw("iocm-auth", oursRound)
    const step = (series: Comparison) => ({
      ms: round(series.oursMedian),
      rawUndiciMs: round(series.baselineMedian),
      ratio: round(series.ratioMedian, 3)
    })
    const ratio = comparison.ratioMedian
    const result: FigureResult = {
      name: "refresh cost",
      ours: round(comparison.oursMedian),
      baseline: round(comparison.baselineMedian),
      unit: "ms",
      ratioDefinition: "ours / baseline median latency (IocmAuth.refresh vs the platform's undici client, " +
        "NodeHttpClient.makeUndici, on the same Agent: POST + text + JSON.parse)",
      ratio: round(ratio, 3),
      target: "ratio ≤ 1.15",
      measured: `ratio ${round(ratio, 3)}; to raw undici ${round(iocmAuthStep.ratioMedian, 3)}`,
      pass: ratio <= 1.15,
      rounds: comparison.ours.length,
      details: {
        perRound: PER_ROUND,
        extraMicrosPerRefresh: round((comparison.oursMedian - comparison.baselineMedian) * 1000, 3),
        ratioToRawUndici: round(iocmAuthStep.ratioMedian, 3),
        stack: {
          what: "the same refresh (body, text, JSON.parse) one layer at a time, each for its own app, each " +
            "interleaved with raw undici (request + text + JSON.parse) on the same Agent; ratio against raw undici",
          effectPlatformUndici: step(platformStep),
          iocmHttp: step(iocmHttpStep),
          iocmAuth: step(iocmAuthStep)
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
