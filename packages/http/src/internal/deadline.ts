/**
 * One deadline per request, its only owner: a single timer, started when the request is sent, bounds the
 * wait for the status and headers and then the reading of the body, and is cleared when the request is
 * over (its body read, or the request failed or was interrupted). When it fires first, the phase under
 * way is interrupted, which aborts the request on the wire, and fails with the one timeout error; a
 * response whose body nobody is reading then is abandoned on the wire all the same.
 *
 * The timer is a plain, unref'd Node timer rather than a fiber sleeping on Effect's `Clock`: such a fiber
 * per request cost about as much as the rest of the client, and it would keep the process alive until the
 * deadline of a response whose body is never read. The request it bounds is I/O that keeps the process
 * alive by itself. The only fiber it adds is the one that runs the phase under way, so that the timer can
 * interrupt it without interrupting the caller.
 *
 * A request sent inside a call that is bounded as a whole no later than this deadline would fire
 * (`IocmAuth.CallDeadline`: a login or refresh) gets no deadline of its own: the call's bound already
 * interrupts it, and one timer per call is the point.
 *
 * @internal
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as IocmError from "@iocm/core/IocmError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Stream from "effect/Stream"
import { type BodyHooks, WrappedResponse } from "./response.js"

/**
 * The error of a request that missed its deadline, the one place its wording lives: a `TransportError`
 * while it waited for its response, a `DecodeError` once its body was being read.
 */
const timedOut = (
  timeout: Duration.Duration,
  request: HttpClientRequest.HttpClientRequest,
  response?: HttpClientResponse.HttpClientResponse
): HttpClientError.HttpClientError => {
  const description = IocmError.timeoutDescription(timeout)
  return new HttpClientError.HttpClientError({
    reason: response === undefined
      ? new HttpClientError.TransportError({ request, description })
      : new HttpClientError.DecodeError({ request, response, description })
  })
}

/** Node's timers fire at once beyond this; a deadline that far away is never reached. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

/** The deadline of one request, from the moment it is made. */
class Deadline {
  private expired = false
  private ended = false
  /** what each phase waiting on the deadline does when it passes */
  private readonly waiting = new Set<() => void>()
  private readonly timer: ReturnType<typeof setTimeout> | undefined
  /** the response whose body is still to be read, once it has come */
  private response: HttpClientResponse.HttpClientResponse | undefined

  constructor(millis: number) {
    this.timer = millis > MAX_TIMER_MILLIS ? undefined : setTimeout(() => this.expire(), millis).unref()
  }

  private expire() {
    this.expired = true
    if (this.waiting.size === 0 && this.response !== undefined) abandon(this.response)
    for (const expire of this.waiting) expire()
  }

  /** The response has come: if the deadline passes while nobody reads its body, it is abandoned. */
  received(response: HttpClientResponse.HttpClientResponse) {
    this.response = response
  }

  /** The request is over: clears the timer. */
  readonly end = () => {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.timer)
  }

  /**
   * Runs `phase` in a child fiber that the deadline interrupts (aborting the request) if it passes first,
   * failing with `timeout()`. The request is over when the phase fails or is interrupted, or when the
   * `last` phase succeeds; a phase that starts after that is not bounded, having nothing left to wait for.
   */
  bound<A, E, R, E2>(phase: Effect.Effect<A, E, R>, timeout: () => E2, last: boolean): Effect.Effect<A, E | E2, R> {
    return Effect.suspend(() => {
      if (this.expired) return Effect.fail(timeout())
      if (this.ended) return phase
      return Effect.flatMap(
        Effect.forkChild(phase, { startImmediately: true }),
        (fiber) => this.await(fiber, timeout, last)
      )
    })
  }

  /** Waits for the phase running in `fiber`, or for the deadline, whichever comes first. */
  private await<A, E, E2>(fiber: Fiber.Fiber<A, E>, timeout: () => E2, last: boolean): Effect.Effect<A, E | E2> {
    return Effect.callback<A, E | E2>((resume) => {
      const expire = () => resume(Effect.andThen(Fiber.interrupt(fiber), Effect.fail(timeout())))
      this.waiting.add(expire)
      fiber.addObserver((exit) => {
        this.waiting.delete(expire)
        if (last || !Exit.isSuccess(exit)) this.end()
        resume(exit)
      })
      return Effect.suspend(() => {
        this.waiting.delete(expire)
        this.end()
        return Fiber.interrupt(fiber)
      })
    })
  }

  /**
   * `body` ended early by the deadline, failing with `timeout()`; the request is over when it ends. A body
   * read after the deadline fails at once.
   */
  boundStream<A, E, E2>(body: Stream.Stream<A, E>, timeout: () => E2): Stream.Stream<A, E | E2> {
    return Stream.suspend(() =>
      this.expired
        ? Stream.fail(timeout())
        : body.pipe(Stream.interruptWhen(this.expiry(timeout)), Stream.ensuring(Effect.sync(this.end)))
    )
  }

  /** Fails with `timeout()` when the deadline passes; never succeeds. */
  private expiry<E2>(timeout: () => E2): Effect.Effect<never, E2> {
    return Effect.callback<never, E2>((resume) => {
      if (this.expired) return resume(Effect.fail(timeout()))
      const expire = () => resume(Effect.fail(timeout()))
      this.waiting.add(expire)
      return Effect.sync(() => this.waiting.delete(expire))
    })
  }
}

/**
 * Aborts, on the wire, a response whose body nobody is reading: starts reading it and interrupts the read at
 * once, as the client aborts a request whose read is interrupted. Runs only when a deadline passes.
 */
const abandon = (response: HttpClientResponse.HttpClientResponse): void =>
  Effect.runFork(response.arrayBuffer).interruptUnsafe()

/** Body reads bounded by the request's deadline; the first read that ends (or fails) ends the request. */
const bodyHooks = (deadline: Deadline, timeout: () => HttpClientError.HttpClientError): BodyHooks => ({
  effect: (read) => deadline.bound(read, timeout, true),
  stream: (read) => deadline.boundStream(read, timeout)
})

/**
 * Bounds each request of a client, status, headers and body, by one deadline of `timeout`.
 *
 * @internal
 */
export const withTimeout = (timeout: Duration.Input) => {
  const duration = Duration.fromInputUnsafe(timeout)
  const millis = Duration.toMillis(duration)
  return <E, R>(
    self: HttpClient.HttpClient.With<E, R>
  ): HttpClient.HttpClient.With<E | HttpClientError.HttpClientError, R> =>
    HttpClient.transform(self, (effect, request) =>
      Effect.withFiber((fiber) => {
        // A call bounded as a whole no later than this request would be (`IocmAuth`'s) needs no second timer.
        const outer = fiber.getRef(IocmAuth.CallDeadline)
        if (outer !== undefined && outer <= Date.now() + millis) return effect
        const deadline = new Deadline(millis)
        return Effect.map(deadline.bound(effect, () => timedOut(duration, request), false), (response) => {
          deadline.received(response)
          return new WrappedResponse(response, bodyHooks(deadline, () => timedOut(duration, request, response)))
        })
      }))
}
