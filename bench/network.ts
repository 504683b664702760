/**
 * The client side of the network figures: our transport (`IocmHttp.layer` with the TEST-ONLY CA
 * and client certificate, keep-alive) and the auth API for one of the simulator's apps.
 */
import * as IocmAuth from "@iocm/core/IocmAuth"
import * as PlatformConfig from "@iocm/core/PlatformConfig"
import * as IocmHttp from "@iocm/http/IocmHttp"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { app } from "./servers/protocol.js"
import type { Pems } from "./support.js"

/** Our transport: undici with mutual TLS, the pool kept alive between requests. */
export const httpLayer = (pems: Pems): Layer.Layer<HttpClient.HttpClient, IocmHttp.IocmHttpConfigError> =>
  IocmHttp.layer({ ca: pems.ca, cert: pems.clientCert, key: Redacted.make(pems.clientKey) })

/** The platform settings of one of the simulator's apps. */
export const configLayer = (baseUrl: string, name: string) => {
  const credentials = app(name)
  return PlatformConfig.layer({ baseUrl, appId: credentials.appId, secret: Redacted.make(credentials.secret) })
}

/** `IocmAuth` and `PlatformConfig` for one app, over the `HttpClient` in context. */
export const authLayer = (baseUrl: string, name: string) =>
  Layer.provideMerge(IocmAuth.layer, configLayer(baseUrl, name))
