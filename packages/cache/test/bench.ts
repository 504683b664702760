/**
 * Throughput of `TokenService.get` on a fresh token against a bare `Ref.get`:
 * `npx tsx --conditions=@iocm/source packages/cache/test/bench.ts`.
 */
import { Effect, Layer, Ref } from "effect"
import * as TokenService from "../src/TokenService.js"
import * as TokenStore from "../src/TokenStore.js"
import * as FakeAuth from "./utils/FakeAuth.js"

const N = 3_000_000

const loop = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < N; i++) yield* self
  })

const time = <E, R>(self: Effect.Effect<void, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* self
    return performance.now() - start
  })

const main = Effect.gen(function*() {
  const fake = FakeAuth.make()
  const service = yield* TokenService.make().pipe(Effect.provide(Layer.merge(fake.layer, TokenStore.layerMemory)))
  yield* service.get
  const ref = yield* Ref.make(1)
  const ratios: Array<[number, number]> = []
  for (let round = 0; round < 5; round++) {
    const bare = yield* time(loop(Ref.get(ref)))
    const get = yield* time(loop(service.get))
    const accessor = yield* time(loop(TokenService.get).pipe(Effect.provideService(TokenService.TokenService, service)))
    ratios.push([bare / get, bare / accessor])
  }
  const median = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  console.log(
    `service.get: ${median(ratios.map(([a]) => a)).toFixed(2)} of Ref.get; ` +
      `TokenService.get accessor: ${median(ratios.map(([, b]) => b)).toFixed(2)} of Ref.get`
  )
})

Effect.runPromise(Effect.scoped(main))
