/**
 * The long-running part of the examples: a `TokenService` keeps the token fresh while the program
 * calls the business endpoint every second through the authenticated client, printing each call
 * and each token event.
 */
import { TokenEvent, TokenService } from "@iocm/cache"
import { PlatformConfig, Wire } from "@iocm/core"
import type { Duration } from "effect"
import { Console, Effect, Fiber, Option, Result, Schedule, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

const time = (millis: number) => new Date(millis).toISOString().slice(11, 19)

/** One readable line per token event; never a token. */
export const describeEvent: (event: TokenEvent.TokenEvent) => string = TokenEvent.TokenEvent.$match({
  Refreshed: (e) =>
    `token  refreshed (${e.reason}), generation ${e.generation}, expires ${
      time(e.expiresAt)
    }, refresh token ${e.refreshToken}`,
  LoggedIn: (e) => `token  logged in (${e.reason}), generation ${e.generation}, expires ${time(e.expiresAt)}`,
  Adopted: (e) => `token  adopted from the store, generation ${e.generation}`,
  Failed: (e) => `token  ${e.operation} failed (${e.error._tag}), attempt ${e.attempt}, next at ${time(e.retryAt)}`,
  Terminal: (e) => `token  ${e.operation} failed for good (${e.error._tag}): ${e.error.message}`,
  Invalidated: (e) => `token  generation ${e.generation} invalidated (${e.reason})`,
  StoreUnavailable: (e) => `store  unavailable (${e.operation}): ${e.error.message}`,
  StoreRecovered: () => "store  answers again",
  StoreReseeded: (e) => `store  found empty, seeded again with generation ${e.generation}`
})

/** What a loop did. */
export interface LoopSummary {
  readonly calls: number
  readonly succeeded: number
}

/**
 * Calls `GET /iocm/app/dm/v1.4.0/devices` every second for `duration` (forever when `None`),
 * printing each call and each token event.
 */
export const run = (
  duration: Option.Option<Duration.Duration>
) =>
  Effect.gen(function*() {
    const config = yield* PlatformConfig.PlatformConfig
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
      TokenService.authenticated
    )
    const events = yield* TokenService.changes.pipe(
      Stream.runForEach((event) => Console.log(describeEvent(event))),
      Effect.forkChild
    )
    const started = Date.now()
    const summary = { calls: 0, succeeded: 0 }
    const call = Effect.gen(function*() {
      summary.calls++
      const response = yield* client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
        Effect.result
      )
      const second = ((Date.now() - started) / 1000).toFixed(1).padStart(5)
      if (Result.isSuccess(response) && response.success.status === 200) {
        summary.succeeded++
        yield* Console.log(`${second}s  GET devices -> 200`)
      } else {
        const outcome = Result.isSuccess(response) ? `${response.success.status}` : response.failure.message
        yield* Console.log(`${second}s  GET devices -> ${outcome}`)
      }
    })
    const repetitions = Option.match(duration, {
      onNone: () => Schedule.spaced("1 second"),
      onSome: (d) => Schedule.spaced("1 second").pipe(Schedule.upTo({ duration: d }))
    })
    yield* Effect.repeat(call, repetitions)
    yield* Fiber.interrupt(events)
    return summary as LoopSummary
  })
