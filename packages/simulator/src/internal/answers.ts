/**
 * The simulator's answers: the platform's JSON error bodies and token answer, the answers of
 * injected faults, and how each answer is counted and logged (`Counted`), read by the one
 * middleware that counts and logs every request.
 *
 * @internal
 */
import * as Wire from "@iocm/core/Wire"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { CountedEndpoint, Endpoint } from "../Simulator.js"
import type { ErrorSpec, PlatformReject } from "./errors.js"
import { specs } from "./errors.js"
import type { FaultAction } from "./faults.js"
import type { Issued } from "./platform.js"
import { randomToken } from "./platform.js"

/**
 * The keys of an error body: the platform's `error_code`/`error_desc`, or the
 * `resultcode`/`resultmsg` some of its business APIs answer with.
 *
 * @internal
 */
export type ErrorKeys = "error_code" | "resultcode"

/**
 * How an answer is counted and logged: under which endpoint, with which outcome (`"ok"`,
 * `"control"`, an `error_code`, `"bodyTooLarge"`, `"404"`, `"405"` or an injected fault's name),
 * and whether the connection is destroyed instead of answered.
 *
 * @internal
 */
export interface Counted {
  readonly endpoint: CountedEndpoint
  readonly outcome: string
  readonly resetConnection: boolean
}

// Each answer is a fresh response, so the response itself is the key to how it is counted.
const countedAnswers = new WeakMap<HttpServerResponse.HttpServerResponse, Counted>()

const counted = (
  response: HttpServerResponse.HttpServerResponse,
  endpoint: CountedEndpoint,
  outcome: string,
  resetConnection = false
): HttpServerResponse.HttpServerResponse => {
  countedAnswers.set(response, { endpoint, outcome, resetConnection })
  return response
}

/**
 * How `response` is counted and logged; a response built elsewhere than here counts as `other`
 * with its status.
 *
 * @internal
 */
export const countedAs = (response: HttpServerResponse.HttpServerResponse): Counted =>
  countedAnswers.get(response) ?? { endpoint: "other", outcome: String(response.status), resetConnection: false }

const errorBody = (spec: ErrorSpec, keys: ErrorKeys) =>
  HttpServerResponse.jsonUnsafe(
    keys === "resultcode"
      ? { resultcode: spec.code, resultmsg: spec.description }
      : Wire.encodeErrorBody({ code: spec.code, description: spec.description }),
    { status: spec.status }
  )

const outcomeOf = (spec: ErrorSpec): string => spec === specs.bodyTooLarge ? "bodyTooLarge" : spec.code

/**
 * The platform's error answer to a rejected request of `endpoint`.
 *
 * @internal
 */
export const rejected = (endpoint: CountedEndpoint, rejection: PlatformReject, keys: ErrorKeys = "error_code") =>
  counted(errorBody(rejection.spec, keys), endpoint, outcomeOf(rejection.spec))

/**
 * The platform's 500/50252 answer to a request of `endpoint` that hit a defect.
 *
 * @internal
 */
export const internalError = (endpoint: CountedEndpoint): HttpServerResponse.HttpServerResponse =>
  counted(errorBody(specs.internal, "error_code"), endpoint, specs.internal.code)

/**
 * A platform endpoint's successful answer.
 *
 * @internal
 */
export const ok = (endpoint: Endpoint, response: HttpServerResponse.HttpServerResponse) =>
  counted(response, endpoint, "ok")

/**
 * The control API's successful answer, counted under `other`.
 *
 * @internal
 */
export const control = (response: HttpServerResponse.HttpServerResponse) => counted(response, "other", "control")

/**
 * 404 for an unknown path, platform-style.
 *
 * @internal
 */
export const notFound = (): HttpServerResponse.HttpServerResponse =>
  counted(errorBody(specs.notFound, "error_code"), "other", "404")

/**
 * 405 for a known path with another method, naming the one it `allow`s.
 *
 * @internal
 */
export const methodNotAllowed = (allow: string): HttpServerResponse.HttpServerResponse =>
  counted(
    errorBody(specs.methodNotAllowed, "error_code").pipe(HttpServerResponse.setHeader("allow", allow)),
    "other",
    "405"
  )

/**
 * The token response's fields as `Wire.TokenResponse` encodes them, built directly: a schema
 * encode and two `Redacted` wraps per answer were a sixth of a token request's CPU. A test holds
 * the bytes to the schema's encoding.
 *
 * @internal
 */
export const tokenFields = (issued: Issued): typeof Wire.TokenResponse.Encoded => ({
  accessToken: issued.session.accessToken,
  tokenType: "bearer",
  expiresIn: issued.expiresIn,
  refreshToken: issued.session.refreshToken,
  scope: "default"
})

/**
 * The platform's answer to a login or a refresh: the token set it issued.
 *
 * @internal
 */
export const tokens = (issued: Issued): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(tokenFields(issued))

const proxyPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

const sampleTokens = () => ({
  accessToken: randomToken(),
  tokenType: "bearer",
  expiresIn: 3600,
  refreshToken: randomToken(),
  scope: "default"
})

// What each endpoint answers, for a truncated copy: only its first half is ever sent.
const samples: Record<Endpoint, () => unknown> = {
  login: sampleTokens,
  refresh: sampleTokens,
  devices: () => ({ totalCount: 0, pageNo: 0, pageSize: 10, devices: [] }),
  registration: () => ({ deviceId: randomToken(), verifyCode: "node-1", timeout: 180, psk: randomToken() }),
  commands: () => ({ commandId: randomToken(), deviceId: randomToken(), status: "PENDING", issuedTimes: 0 }),
  subscriptions: () => ({ subscriptionId: randomToken(), notifyType: "deviceDataChanged", callbackUrl: "https://na" })
}

// A well-framed 200 whose JSON stops in the middle, as when a proxy cuts the body.
const truncated = (endpoint: Endpoint) => {
  const body = JSON.stringify(samples[endpoint]())
  return HttpServerResponse.text(body.slice(0, Math.floor(body.length / 2)), {
    status: 200,
    contentType: "application/json"
  })
}

/**
 * The answer of an injected fault on `endpoint`.
 *
 * @internal
 */
export const fault = (endpoint: Endpoint, action: FaultAction): HttpServerResponse.HttpServerResponse => {
  switch (action) {
    case "error":
      return internalError(endpoint)
    case "html":
      return counted(HttpServerResponse.text(proxyPage, { status: 502, contentType: "text/html" }), endpoint, "html")
    case "truncate":
      return counted(truncated(endpoint), endpoint, "truncate")
    case "reset":
      return counted(HttpServerResponse.empty(), endpoint, "reset", true)
  }
}
