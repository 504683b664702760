/**
 * Signed calls: N business calls (`GET /iocm/app/dm/v1.4.0/devices`, which needs `app_key` and a
 * Bearer token) through `TokenService.authenticated(client)`, against the same client adding a
 * fixed `app_key` and `Authorization` header with `HttpClient.mapRequest`. Same transport, same
 * concurrency, against the simulator in its own process (rate limit lifted for the bench).
 * Each round alternates the two sides in chunks of 128 calls (ABBA), so that both see the same
 * machine: this one is shared and noisy.
 * ratio = ours / baseline calls/s; target ≥ 0.95.
 */
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Layer from "effect/Layer"
import type { Figure, FigureResult } from "../harness.js"
import { comparePaired, median, now, progress, round, samples } from "../harness.js"
import { authLayer, httpLayer } from "../network.js"
import { Servers } from "../servers/remote.js"
import { readPems } from "../support.js"

/** Calls per chunk; a round alternates the two sides chunk by chunk (ABBA), `CHUNKS` chunks each. */
const CHUNK = 128
const CHUNKS = 4
const CALLS = CHUNK * CHUNKS
const CONCURRENCY = 32

const measure = Effect.gen(function*() {
  yield* progress(
    `signed calls: ${CALLS} business calls a side per round in chunks of ${CHUNK}, concurrency ${CONCURRENCY}`
  )
  const config = yield* PlatformConfig.PlatformConfig
  const base = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)))
  const service = yield* TokenService.TokenService
  const token = yield* service.get
  const withFixedHeader = <E>(client: HttpClient.HttpClient.With<E>) =>
    client.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.setHeader(config.appKeyHeader, config.appId),
          HttpClientRequest.bearerToken(token.token)
        )
      )
    )
  const ours = TokenService.authenticated(base)
  const fixed = withFixedHeader(base)
  let failures = 0
  const chunk = <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
    Effect.forEach(
      Array.from({ length: CHUNK }),
      () =>
        client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
          Effect.flatMap((response) => {
            if (response.status !== 200) failures++
            return response.text
          })
        ),
      { concurrency: CONCURRENCY, discard: true }
    )
  // Wall and CPU time per side, summed over the chunks of a round.
  const cpu = { ours: [] as Array<number>, baseline: [] as Array<number> }
  const pairedRound = Effect.gen(function*() {
    const wall = { ours: 0, baseline: 0 }
    const used = { ours: 0, baseline: 0 }
    const side = <E, R>(name: "ours" | "baseline", client: HttpClient.HttpClient.With<E, R>) =>
      Effect.suspend(() => {
        const cpuBefore = process.cpuUsage()
        const start = now()
        return Effect.tap(chunk(client), () =>
          Effect.sync(() => {
            wall[name] += now() - start
            const delta = process.cpuUsage(cpuBefore)
            used[name] += delta.user + delta.system
          }))
      })
    for (let i = 0; i < CHUNKS; i++) {
      if (i % 2 === 0) {
        yield* side("ours", ours)
        yield* side("baseline", fixed)
      } else {
        yield* side("baseline", fixed)
        yield* side("ours", ours)
      }
    }
    cpu.ours.push(used.ours / CALLS)
    cpu.baseline.push(used.baseline / CALLS)
    return [CALLS / (wall.ours / 1000), CALLS / (wall.baseline / 1000)] as const
  })
  const comparison = yield* comparePaired({
    label: "signed calls",
    warmup: 3,
    rounds: 41,
    round: pairedRound,
    ratio: (ours, baseline) => ours / baseline
  })
  const ratio = comparison.ratioMedian
  const result: FigureResult = {
    name: "signed calls",
    ours: round(comparison.oursMedian),
    baseline: round(comparison.baselineMedian),
    unit: "calls/s",
    ratioDefinition: "ours / baseline calls/s (TokenService.authenticated vs a fixed header, same client)",
    ratio: round(ratio, 3),
    target: "ratio ≥ 0.95",
    pass: ratio >= 0.95 && failures === 0,
    rounds: comparison.ours.length,
    details: {
      callsPerRoundPerSide: CALLS,
      chunk: CHUNK,
      concurrency: CONCURRENCY,
      non200Answers: failures,
      clientCpuMicrosPerCall: {
        ours: round(median(cpu.ours.slice(-comparison.ours.length)), 3),
        baseline: round(median(cpu.baseline.slice(-comparison.ours.length)), 3)
      },
      ...samples(comparison)
    }
  }
  return result
})

export const figure: Figure<Servers> = {
  id: "signed-calls",
  run: Effect.gen(function*() {
    const remote = yield* (yield* Servers).get
    return yield* measure.pipe(
      Effect.provide(
        TokenService.layer().pipe(
          Layer.provideMerge(TokenStore.layerMemory),
          Layer.provideMerge(authLayer(remote.info.simulator, "signed")),
          Layer.provideMerge(httpLayer(readPems()))
        )
      )
    )
  })
}
