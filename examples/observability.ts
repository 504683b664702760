/**
 * `pnpm example observability`: the spans and metrics of a `TokenService` program, as a team's
 * tools see them. Against the embedded simulator (5-second tokens) it calls the business endpoint
 * every 500 ms for `IOCM_DEMO_DURATION` (default 12 seconds), each call in a span `list devices`;
 * halfway the simulator revokes the token, so one call is refused (1010005) and replayed.
 *
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g. `http://127.0.0.1:4318`): spans, metrics and logs go
 *   there over OTLP/HTTP (JSON), with effect's own exporter (`effect/observability/Otlp`, no
 *   OpenTelemetry SDK to install); `OTEL_SERVICE_NAME` names the service (default `iocm-example`).
 * - Otherwise each span is printed as it ends (`span <name> <ms> ms … {attributes}`), and the
 *   metrics are printed at the end in Prometheus' text format.
 * - `IOCM_METRICS_PORT` set: the metrics are also served while it runs, as Prometheus scrapes them,
 *   on `http://127.0.0.1:<port>/metrics` (`effect/observability/PrometheusMetrics`).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { TokenService, TokenStore } from "@iocm/cache"
import { IocmAuth, PlatformConfig, Wire } from "@iocm/core"
import { Simulator } from "@iocm/simulator"
import { Config, Console, Duration, Effect, Layer, Option } from "effect"
import { HttpClient, HttpClientRequest, HttpRouter } from "effect/http"
import * as Otlp from "effect/observability/Otlp"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import { createServer } from "node:http"
import * as ConsoleTracer from "./src/ConsoleTracer.js"
import * as Platform from "./src/Platform.js"

/** One business call in its span; its status (0 when it did not get an answer). */
const listDevices = <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
  client.get(Wire.devicesPath, { urlParams: { pageNo: 0, pageSize: 10 } }).pipe(
    Effect.map((response) => response.status),
    Effect.orElseSucceed(() => 0),
    Effect.withSpan("list devices")
  )

const program = Effect.gen(function*() {
  const duration = yield* Config.Duration("IOCM_DEMO_DURATION").pipe(Config.withDefault(Duration.seconds(12)))
  const config = yield* PlatformConfig.PlatformConfig
  const simulator = yield* Simulator.Simulator
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(HttpClientRequest.prependUrl(config.baseUrl)),
    TokenService.authenticated
  )
  const start = Date.now()
  const revokeAt = start + Duration.toMillis(duration) / 2
  let revoked = false
  let ok = 0
  let calls = 0
  while (Date.now() < start + Duration.toMillis(duration)) {
    if (!revoked && Date.now() >= revokeAt) {
      yield* simulator.revokeTokens()
      revoked = true
    }
    calls++
    if ((yield* listDevices(client)) === 200) ok++
    yield* Effect.sleep("500 millis")
  }
  yield* Console.log(`${ok} of ${calls} business calls succeeded`)
})

/** Prints the metrics, in Prometheus' text format, after the program. */
const printMetrics = Effect.flatMap(PrometheusMetrics.format(), (text) => Console.log(`# metrics\n${text}`))

/** Where spans and metrics go (see the module's comment). */
const TelemetryLive = Layer.unwrap(Effect.map(
  Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT")),
  (endpoint) =>
    Option.isSome(endpoint)
      ? Layer.unwrap(Effect.map(
        Config.String("OTEL_SERVICE_NAME").pipe(Config.withDefault("iocm-example")),
        (serviceName) =>
          Otlp.layerJson({ baseUrl: endpoint.value, resource: { serviceName } }).pipe(
            Layer.provide(NodeHttpClient.layerUndici)
          )
      ))
      : ConsoleTracer.layer
))

/** The metrics endpoint, when `IOCM_METRICS_PORT` is set. */
const MetricsEndpointLive = Layer.unwrap(Effect.map(
  Config.option(Config.Port("IOCM_METRICS_PORT")),
  (port) =>
    Option.isNone(port) ? Layer.empty : HttpRouter.serve(PrometheusMetrics.layerHttp(), {
      disableLogger: true,
      disableListenLog: true
    }).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port: port.value, host: "127.0.0.1" })))
))

const MainLive = TokenService.layerConfig().pipe(
  Layer.provide(TokenStore.layerMemory),
  Layer.provideMerge(IocmAuth.layer),
  Layer.provideMerge(Platform.layerEmbedded({ tokenLifetime: "5 seconds" })),
  Layer.merge(MetricsEndpointLive)
)

const main = Effect.gen(function*() {
  const exported = Option.isSome(yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT")))
  yield* program.pipe(Effect.provide(MainLive))
  if (!exported) yield* printMetrics
})

Platform.runQuietly(main.pipe(Effect.provide(TelemetryLive)))
