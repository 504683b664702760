/**
 * Signed calls: N business calls (`GET /iocm/app/dm/v1.4.0/devices`, which needs `app_key` and a
 * Bearer token) through `TokenService.authenticated(client)`, against the same client adding a
 * fixed `app_key` and `Authorization` header with `HttpClient.mapRequest`. Same transport, same
 * concurrency, against the simulator in its own process (rate limit lifted for the bench).
 * ratio = ours / baseline calls/s; target ≥ 0.95.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as TokenService from "@iocm/cache/TokenService"
import * as TokenStore from "@iocm/cache/TokenStore"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as Wire from "@iocm/core/Wire"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Figure, FigureResult } from "../harness.js"
import { compare, median, opsPerSecond, progress, round, samples } from "../harness.js"
import { authLayer, httpLayer } from "../network.js"
import { Servers } from "../servers/remote.js"
import { readPems } from "../support.js"

const CALLS = 2_000
const CONCURRENCY = 32

const measure = Effect.gen(function*() {
  yield* progress(`signed calls: ${CALLS} business calls, concurrency ${CONCURRENCY}, authenticated vs fixed header`)
  const config = yield* PlatformConfig.PlatformConfig
  const base = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)))
  const ours = yield* TokenService.authenticated(base)
  const token = yield* TokenService.get
  const fixed = base.pipe(
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.setHeader(config.appKeyHeader, config.appId),
        HttpClientRequest.bearerToken(token.token)
      )
    )
  )
  let failures = 0
  const cpu = { ours: [] as Array<number>, baseline: [] as Array<number> }
  const withCpu = <E>(side: keyof typeof cpu, self: Effect.Effect<number, E>) =>
    Effect.suspend(() => {
      const before = process.cpuUsage()
      return Effect.tap(self, () =>
        Effect.sync(() => {
          const used = process.cpuUsage(before)
          cpu[side].push((used.user + used.system) / CALLS)
        }))
    })
  const calls = <E>(client: HttpClient.HttpClient.With<E>) =>
    opsPerSecond(
      CALLS,
      Effect.forEach(
        Array.from({ length: CALLS }),
        () =>
          client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
            Effect.flatMap((response) => {
              if (response.status !== 200) failures++
              return response.text
            })
          ),
        { concurrency: CONCURRENCY, discard: true }
      )
    )
  const comparison = yield* compare({
    label: "signed calls",
    warmup: 2,
    rounds: 15,
    ours: withCpu("ours", calls(ours)),
    baseline: withCpu("baseline", calls(fixed)),
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
      calls: CALLS,
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
