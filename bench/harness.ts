/**
 * The shared measuring harness: warm-up, interleaved rounds (ours and baseline alternate ABBA so
 * that a noisy neighbour or a slow drift hits both sides alike), medians, and the shape of a
 * figure's result.
 */
import * as Effect from "effect/Effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** How a ratio is read against its target. */
export type Direction = "higher-is-better" | "lower-is-better"

/** One row of the table and one entry of `bench/results.json`. */
export interface FigureResult {
  readonly name: string
  /** The median of our rounds. */
  readonly ours: number
  /** The median of the baseline's rounds. */
  readonly baseline: number
  readonly unit: string
  /** How `ratio` is computed, in words (e.g. "ours / baseline ops/s"). */
  readonly ratioDefinition: string
  /** The median of the per-round ratios (each round of ours paired with the baseline round next to it). */
  readonly ratio: number
  /** The target, in words, e.g. "ratio ≥ 0.5". */
  readonly target: string
  /** What was held against the target when it is not the ratio alone (e.g. "growth 0.3 MB"). */
  readonly measured?: string | undefined
  /** `null` for a figure that is only reported. */
  readonly pass: boolean | null
  readonly rounds: number
  /** What else was measured and matters to read the figure. */
  readonly details: Readonly<Record<string, unknown>>
}

/** A figure of the suite. */
export interface Figure<R = never> {
  readonly id: string
  readonly run: Effect.Effect<FigureResult, unknown, R>
}

/** The median of a non-empty list. */
export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Quantile by nearest rank, `q` in [0, 1]. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Rounds a number to `digits` significant digits, for the table and the JSON. */
export const round = (value: number, digits = 4): number =>
  Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value

/** Progress goes to stderr; the table alone goes to stdout. */
export const progress = (message: string): Effect.Effect<void> =>
  Effect.sync(() => {
    process.stderr.write(`[bench] ${message}\n`)
  })

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now()

/** Runs `self` and returns its duration in milliseconds together with its value. */
export const timed = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<readonly [number, A], E, R> =>
  Effect.suspend(() => {
    const start = now()
    return Effect.map(self, (a) => [now() - start, a] as const)
  })

/** Ops per second of an effect that performs `ops` operations. */
export const opsPerSecond = <E, R>(ops: number, self: Effect.Effect<unknown, E, R>): Effect.Effect<number, E, R> =>
  Effect.map(timed(self), ([millis]) => ops / (millis / 1000))

/** The samples of an interleaved comparison. */
export interface Comparison {
  readonly ours: ReadonlyArray<number>
  readonly baseline: ReadonlyArray<number>
  /** `ratio(ours[i], baseline[i])` for each round. */
  readonly ratios: ReadonlyArray<number>
  readonly oursMedian: number
  readonly baselineMedian: number
  readonly ratioMedian: number
}

/**
 * Measures ours and the baseline in alternation: `warmup` discarded pairs, then `rounds` pairs in
 * ABBA order (ours first on even rounds, baseline first on odd ones). Each effect returns the
 * value of one round (ops/s, milliseconds…); the ratio is taken per pair, then its median.
 */
export const compare = <E1, R1, E2, R2>(options: {
  readonly label: string
  readonly warmup: number
  readonly rounds: number
  readonly ours: Effect.Effect<number, E1, R1>
  readonly baseline: Effect.Effect<number, E2, R2>
  readonly ratio: (ours: number, baseline: number) => number
  /** Runs between any two measurements (e.g. a GC), outside the timing. */
  readonly between?: Effect.Effect<void> | undefined
}): Effect.Effect<Comparison, E1 | E2, R1 | R2> =>
  Effect.suspend(() => {
    const between = options.between ?? Effect.void
    const measured = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.andThen(between, self)
    let index = 0
    const round = Effect.suspend(() =>
      index++ % 2 === 0
        ? Effect.all([measured(options.ours), measured(options.baseline)])
        : Effect.map(Effect.all([measured(options.baseline), measured(options.ours)]), ([b, a]) => [a, b] as const)
    )
    return comparePaired({ ...options, round })
  })

/**
 * Measures `warmup` discarded rounds, then `rounds` rounds, of a round that measures both sides
 * itself (e.g. alternating them in short chunks) and returns `[ours, baseline]`.
 */
export const comparePaired = <E, R>(options: {
  readonly label: string
  readonly warmup: number
  readonly rounds: number
  readonly round: Effect.Effect<readonly [number, number], E, R>
  readonly ratio: (ours: number, baseline: number) => number
}): Effect.Effect<Comparison, E, R> =>
  Effect.gen(function*() {
    const ours: Array<number> = []
    const baseline: Array<number> = []
    for (let i = 0; i < options.warmup + options.rounds; i++) {
      const warm = i < options.warmup
      const [a, b] = yield* options.round
      if (!warm) {
        ours.push(a)
        baseline.push(b)
      }
      yield* progress(
        `${options.label}: ${warm ? "warm-up" : "round"} ${warm ? i + 1 : i - options.warmup + 1}` +
          ` ours ${round(a, 4)} baseline ${round(b, 4)}`
      )
    }
    const ratios = ours.map((a, i) => options.ratio(a, baseline[i]!))
    return {
      ours,
      baseline,
      ratios,
      oursMedian: median(ours),
      baselineMedian: median(baseline),
      ratioMedian: median(ratios)
    }
  })

/** The samples, rounded, for the details of a result. */
export const samples = (comparison: Comparison) => ({
  oursRounds: comparison.ours.map((x) => round(x)),
  baselineRounds: comparison.baseline.map((x) => round(x)),
  ratioRounds: comparison.ratios.map((x) => round(x, 3))
})

let gcEntries: Array<{ readonly start: number; readonly duration: number }> | undefined

/** Starts recording the collector's pauses (`PerformanceObserver` on "gc" entries). */
export const recordGc = (): void => {
  if (gcEntries !== undefined) return
  const entries: Array<{ readonly start: number; readonly duration: number }> = []
  gcEntries = entries
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) entries.push({ start: entry.startTime, duration: entry.duration })
  }).observe({ entryTypes: ["gc"] })
}

/** Milliseconds of GC pauses that started between `from` and `to` (`now()` times), once the observer has reported them. */
export const gcMillisBetween = (from: number, to: number): Effect.Effect<number> =>
  Effect.map(
    Effect.sleep(20),
    () => (gcEntries ?? []).filter((e) => e.start >= from && e.start <= to).reduce((sum, e) => sum + e.duration, 0)
  )

let gcFunction: (() => void) | undefined

/**
 * A full garbage collection: `global.gc` when Node runs with `--expose-gc`, otherwise the same
 * function obtained by setting the flag at run time (so that `pnpm bench` works as is).
 */
export const gc = (): void => {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (typeof exposed === "function") {
      gcFunction = exposed
    } else {
      v8.setFlagsFromString("--expose-gc")
      gcFunction = vm.runInNewContext("gc") as () => void
    }
  }
  gcFunction()
}

/** `gc()` as an effect, twice, so that objects with finalizers are gone too. */
export const fullGc: Effect.Effect<void> = Effect.sync(() => {
  gc()
  gc()
})

/** The row of a figure that could not run here (e.g. `redis-server` is not installed): reported, not judged. */
export const skipped = (
  row: Pick<FigureResult, "name" | "unit" | "ratioDefinition" | "target">,
  why: string
): FigureResult => ({
  ...row,
  ours: 0,
  baseline: 0,
  ratio: 0,
  measured: `skipped: ${why}`,
  pass: null,
  rounds: 0,
  details: {}
})
