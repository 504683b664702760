/**
 * The simulated endpoints, as fault injection and the counters name them.
 *
 * @internal
 */
import type { Endpoint } from "../Simulator.js"

/**
 * All simulated endpoints.
 *
 * @internal
 */
export const endpoints: ReadonlyArray<Endpoint> = ["login", "refresh", "devices"]

/**
 * Whether `name` is one of the simulated endpoints.
 *
 * @internal
 */
export const isEndpoint = (name: string): name is Endpoint => (endpoints as ReadonlyArray<string>).includes(name)
