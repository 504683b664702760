/**
 * `examples/grafana/iocm-token-health.json` imports into Grafana as is: a dashboard with a
 * Prometheus data source input, well-formed panels on the grid, and queries on the metrics
 * `@iocm/cache` exports under the names Prometheus sees them by. The alerting rules of
 * `examples/prometheus/iocm-alerts.yml` query the same metrics.
 */
import { assert, describe, it } from "@effect/vitest"
import { TokenMetrics } from "@iocm/cache"
import { Effect, Metric } from "effect"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import { readFileSync } from "node:fs"

interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly datasource?: { readonly type: string; readonly uid: string }
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
  readonly targets?: ReadonlyArray<{ readonly refId: string; readonly expr: string }>
}

const dashboard = JSON.parse(
  readFileSync(new URL("../grafana/iocm-token-health.json", import.meta.url), "utf8")
) as {
  readonly __inputs: ReadonlyArray<{ readonly name: string; readonly type: string; readonly pluginId: string }>
  readonly panels: ReadonlyArray<Panel>
  readonly uid: string
  readonly title: string
  readonly schemaVersion: number
}

const queries = dashboard.panels.filter((panel) => panel.type !== "row")

/** The metric names a PromQL expression reads, without the histogram's series suffixes. */
const metricsOf = (expr: string): ReadonlyArray<string> =>
  [...expr.matchAll(/\b(iocm_[a-z_]+)/g)].map((match) => match[1]!.replace(/_(bucket|sum|count)$/, ""))

/** Every metric `TokenMetrics` exports. */
const exported = Object.values(TokenMetrics).flatMap((value) => Metric.isMetric(value) ? [value] : [])

describe("the Grafana dashboard and the alerting rules", () => {
  it("is a dashboard with a Prometheus input, unique ids and panels that fit the grid without overlapping", () => {
    assert.deepStrictEqual(dashboard.__inputs.map((input) => [input.name, input.type, input.pluginId]), [
      ["DS_PROMETHEUS", "datasource", "prometheus"]
    ])
    assert.strictEqual(dashboard.uid, "iocm-token-health")
    assert.isAtLeast(dashboard.schemaVersion, 36)
    const ids = dashboard.panels.map((panel) => panel.id)
    assert.strictEqual(new Set(ids).size, ids.length)
    const cells = new Set<string>()
    for (const panel of dashboard.panels) {
      const { h, w, x, y } = panel.gridPos
      assert.isTrue(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, panel.title)
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          assert.isFalse(cells.has(`${row}:${column}`), `${panel.title} overlaps another panel`)
          cells.add(`${row}:${column}`)
        }
      }
    }
    for (const panel of queries) {
      assert.deepStrictEqual(panel.datasource, { type: "prometheus", uid: "${DS_PROMETHEUS}" }, panel.title)
      assert.isAbove(panel.targets?.length ?? 0, 0, panel.title)
    }
  })

  it("queries only the metrics the library exports, and every one of them but the stale snapshot", () => {
    const names = new Set(exported.map((metric) => metric.id))
    const used = new Set(queries.flatMap((panel) => panel.targets!.flatMap((target) => metricsOf(target.expr))))
    for (const name of used) assert.isTrue(names.has(name), `${name} is not a metric of TokenMetrics`)
    for (const name of names) {
      if (name !== TokenMetrics.secondsToExpiry.id) assert.isTrue(used.has(name), `${name} has no panel`)
    }
  })

  it("the alerting rules query metrics the library exports, and alert on the expiry, failures, terminal states and the store", () => {
    const rules = readFileSync(new URL("../prometheus/iocm-alerts.yml", import.meta.url), "utf8")
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((match) => match[1])
    assert.deepStrictEqual(alerts, [
      "IocmTokenExpiresWithinForcedWindow",
      "IocmTokenRefreshesFailing",
      "IocmTokenTerminal",
      "IocmTokenStoreUnavailable"
    ])
    const names = new Set(exported.map((metric) => metric.id))
    const used = metricsOf(rules.split("\n").filter((line) => !line.trim().startsWith("#")).join("\n"))
    assert.isNotEmpty(used)
    for (const name of used) assert.isTrue(names.has(name), `${name} is not a metric of TokenMetrics`)
  })

  it.effect("its series are named as Prometheus scrapes them", () =>
    Effect.gen(function*() {
      for (const metric of exported) {
        yield* Metric.update(Metric.withAttributes(metric as Metric.Metric<number, unknown>, { reason: "test" }), 1)
      }
      const scraped = yield* PrometheusMetrics.format()
      for (const panel of queries) {
        for (const target of panel.targets!) {
          for (const name of metricsOf(target.expr)) {
            const series = target.expr.includes(`${name}_bucket`) ? `${name}_bucket` : name
            assert.match(scraped, new RegExp(`^${series}\\{`, "m"), `${series} (${panel.title})`)
          }
        }
      }
    }))
})
