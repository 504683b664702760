/**
 * The simulated endpoints, as fault injection and the counters name them.
 *
 * @internal
 */
import type { Endpoint } from "../Simulator.js"

/**
 * The endpoints behind the platform's authentication: every one but login and refresh.
 *
 * @internal
 */
export type BusinessEndpoint = Exclude<Endpoint, "login" | "refresh">

/**
 * The business endpoints.
 *
 * @internal
 */
export const businessEndpoints: ReadonlyArray<BusinessEndpoint> = [
  "devices",
  "registration",
  "commands",
  "subscriptions"
]

/**
 * All simulated endpoints.
 *
 * @internal
 */
export const endpoints: ReadonlyArray<Endpoint> = ["login", "refresh", ...businessEndpoints]

/**
 * Whether `name` is one of the simulated endpoints.
 *
 * @internal
 */
export const isEndpoint = (name: string): name is Endpoint => (endpoints as ReadonlyArray<string>).includes(name)
