/**
 * What the bench process and its server process say to each other, and the apps registered on
 * the simulator.
 */

/** Where the servers listen. */
export interface ServerInfo {
  /** The simulator, HTTPS with mutual TLS. */
  readonly simulator: string
  /** The minimal `node:https` server, same certificates, same mutual TLS. */
  readonly minimal: string
  /** effect's `HttpRouter` on `NodeHttpServer` answering the same JSON, nothing else. */
  readonly effectFloor: string
  readonly pid: number
}

/** The simulator's request counters, per endpoint and outcome. */
export interface CounterSnapshot {
  readonly requests: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly logins: number
  readonly refreshes: number
}

/** From the bench process. */
export type ParentMessage = { readonly type: "counters" | "cpu"; readonly id: number }

/** From the server process. */
export type ChildMessage =
  | { readonly type: "ready"; readonly info: ServerInfo }
  | { readonly type: "counters"; readonly id: number; readonly counters: CounterSnapshot }
  /** `process.cpuUsage()` of the server process, user + system, microseconds. */
  | { readonly type: "cpu"; readonly id: number; readonly micros: number }

/** The apps registered on the simulator, one per use so that no refresh token is shared. */
export const appNames = ["ours", "baseline", "effect-undici", "iocm-http", "prototype", "herd", "signed"] as const

/** The number of load-generator apps (one per concurrent worker of the simulator figure). */
export const loadApps = 64

/** An app's credentials (TEST-ONLY, they open the local simulator only). */
export const app = (name: string): { readonly appId: string; readonly secret: string } => ({
  appId: `bench-${name}`,
  secret: `bench-${name}-secret`
})

/** Every app to register. */
export const appsOf = (): ReadonlyArray<{ readonly appId: string; readonly secret: string }> => [
  ...appNames.map(app),
  ...Array.from({ length: loadApps }, (_, i) => app(`load-${i}`))
]
