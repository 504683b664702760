/**
 * An independent client for the over-the-wire checks: Node's own `https`/`http`, no code of this
 * project, a fresh connection per request.
 */
import type * as Tokens from "@iocm/testing/Tokens"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Path from "node:path"
import * as Url from "node:url"

export const fixtures = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "fixtures")
export const fixture = (name: string): string => Fs.readFileSync(Path.join(fixtures, name), "utf8")

export const loginPath = "/iocm/app/sec/v1.1.0/login"
export const refreshPath = "/iocm/app/sec/v1.1.0/refreshToken"
export const devicesPath = "/iocm/app/dm/v1.4.0/devices"

export interface Target {
  readonly baseUrl: string
  readonly ca: string
}

export interface Request {
  readonly method?: string
  readonly path: string
  readonly headers?: Record<string, string | number>
  readonly body?: string | Buffer
  /** Client identity for mutual TLS. */
  readonly cert?: string
  readonly key?: string
  /** CA to trust instead of the target's. */
  readonly ca?: string
  /** Write the body in chunks of this size, without Content-Length (chunked encoding). */
  readonly chunked?: number
}

export interface Response {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
}

/** Sends one request; fails with the Node error when no complete response arrives. */
export const send = (target: Target, request: Request): Effect.Effect<Response, NodeJS.ErrnoException> =>
  Effect.callback<Response, NodeJS.ErrnoException>((resume) => {
    const url = new URL(request.path, target.baseUrl)
    const body = request.body === undefined ? undefined : Buffer.from(request.body)
    const headers: Record<string, string | number> = { ...request.headers }
    if (body !== undefined && request.chunked === undefined && headers["content-length"] === undefined) {
      headers["content-length"] = body.length
    }
    const options: Https.RequestOptions = {
      method: request.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      agent: false,
      ca: request.ca ?? target.ca,
      ...(request.cert === undefined ? {} : { cert: request.cert, key: request.key })
    }
    const onResponse = (res: Http.IncomingMessage) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resume(Effect.succeed({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8")
        })))
      res.on("error", (error) => resume(Effect.fail(error)))
    }
    const req = url.protocol === "https:"
      ? Https.request(url, options, onResponse)
      : Http.request(url, options, onResponse)
    req.on("error", (error) => resume(Effect.fail(error)))
    if (body !== undefined && request.chunked !== undefined) {
      for (let i = 0; i < body.length; i += request.chunked) req.write(body.subarray(i, i + request.chunked))
    } else if (body !== undefined) {
      req.write(body)
    }
    req.end()
    return Effect.sync(() => req.destroy())
  })

/**
 * Sends a login with `Expect: 100-continue` and its declared `Content-Length`, writing the body only
 * once a 100 has arrived, as a client honouring the expectation does. Tells whether the 100 came.
 */
export const loginExpectingContinue = (
  target: Target & { readonly clientCert: string; readonly clientKey: string },
  body: string
): Effect.Effect<{ readonly continued: boolean; readonly response: Response }, NodeJS.ErrnoException> =>
  Effect.callback((resume) => {
    let continued = false
    const req = Https.request(new URL(loginPath, target.baseUrl), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body),
        expect: "100-continue"
      },
      agent: false,
      ca: target.ca,
      cert: target.clientCert,
      key: target.clientKey
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => {
        const response = { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }
        // A refused body was never sent: this request cannot end normally, so drop it.
        if (!continued) req.destroy()
        resume(Effect.succeed({ continued, response }))
      })
    })
    req.on("continue", () => {
      continued = true
      req.end(body)
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.flushHeaders()
    return Effect.sync(() => req.destroy())
  })

/** `POST login` with a form body built from `fields` (values are URL-encoded). */
export const login = (target: Target, fields: Record<string, string>, extra: Partial<Request> = {}) =>
  send(target, {
    path: loginPath,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    ...extra
  })

/** `POST refreshToken` with a JSON body. */
export const refresh = (target: Target, body: unknown, extra: Partial<Request> = {}) =>
  send(target, {
    path: refreshPath,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...extra
  })

/** `GET devices` with `app_key` and `Authorization: Bearer`, each left out when undefined. */
export const devices = (
  target: Target,
  auth: { readonly appKey?: string | undefined; readonly token?: string | undefined },
  extra: Partial<Request> = {}
) =>
  send(target, {
    path: `${devicesPath}?pageNo=0&pageSize=10`,
    headers: {
      ...(auth.appKey === undefined ? {} : { app_key: auth.appKey }),
      ...(auth.token === undefined ? {} : { authorization: `Bearer ${auth.token}` })
    },
    ...extra
  })

export const json = (response: Response): unknown => JSON.parse(response.text)
export const tokens = (response: Response): Tokens.TokenBody => JSON.parse(response.text) as Tokens.TokenBody
export const errorOf = (response: Response) => ({ status: response.status, body: json(response) })

export const registrationPath = "/iocm/app/reg/v1.1.0/deviceCredentials"
export const commandsPath = "/iocm/app/cmd/v1.4.0/deviceCommands"
export const subscriptionsPath = "/iocm/app/sub/v1.2.0/subscriptions"
export const devicePath = (deviceId: string, version = "v1.4.0") =>
  `/iocm/app/dm/${version}/devices/${encodeURIComponent(deviceId)}`

/** An app's credentials on business calls. */
export interface Credentials {
  readonly appKey?: string | undefined
  readonly token?: string | undefined
  /** The `Authorization` scheme; default `Bearer`. */
  readonly scheme?: string | undefined
}

/**
 * A business call: `method` (default GET, POST with a body) on `path`, with `app_key` and
 * `Authorization: <scheme> <token>` (each left out when undefined) and a JSON body when given.
 */
export const call = (
  target: Target,
  credentials: Credentials,
  request: { readonly method?: string; readonly path: string; readonly body?: unknown }
) =>
  send(target, {
    path: request.path,
    headers: {
      ...(credentials.appKey === undefined ? {} : { app_key: credentials.appKey }),
      ...(credentials.token === undefined ? {} : {
        authorization: `${credentials.scheme ?? "Bearer"} ${credentials.token}`
      }),
      ...(request.body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(request.method === undefined ? {} : { method: request.method }),
    ...(request.body === undefined
      ? {}
      : { body: typeof request.body === "string" ? request.body : JSON.stringify(request.body) })
  })

/** Logs `app` in and answers its credentials for business calls. */
export const session = (target: Target, app: { readonly appId: string; readonly secret: string }) =>
  Effect.map(
    login(target, app),
    (response): Credentials => ({ appKey: app.appId, token: tokens(response).accessToken })
  )
