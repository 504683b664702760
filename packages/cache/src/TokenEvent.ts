/**
 * What `TokenService.changes` publishes: one event per change of the token state, for metrics,
 * dashboards and tests. Events carry generations, times and errors, never a token.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type { TokenError } from "./TokenError.js"
import type { TokenStoreError } from "./TokenStore.js"

/**
 * Why a login or refresh happened:
 *
 * - `cold`: there was no token yet.
 * - `proactive`: the background refresh (and its retries) ahead of expiry.
 * - `forced`: a caller needed a token inside the forced window or after expiry.
 * - `explicit`: `TokenService.refresh` was called.
 * - `invalidated`: `TokenService.invalidate` dropped the token.
 * - `1010005` / `100002`: the platform refused the token on a business call (403 / 401).
 * - `rejected-token`: the login that follows a refused refresh token.
 *
 * @since 0.1.0
 * @category Models
 */
export type Reason =
  | "cold"
  | "proactive"
  | "forced"
  | "explicit"
  | "invalidated"
  | "1010005"
  | "100002"
  | "rejected-token"

/**
 * Which platform API an attempt called.
 *
 * @since 0.1.0
 * @category Models
 */
export type Operation = "login" | "refresh"

/**
 * A change of the token state. Times are epoch milliseconds.
 *
 * - `Refreshed`: a refresh produced a new access token; `refreshToken` says whether the refresh
 *   token rotated, the old one was kept (the response had none) or there is none left.
 * - `LoggedIn`: a login produced a new access token.
 * - `Adopted`: a token was taken from the `TokenStore` (at start, or obtained by another process).
 * - `Failed`: an attempt failed with an error that is not terminal; the next is due at `retryAt`.
 * - `Terminal`: an attempt failed with an error retrying cannot fix (`RefreshPolicy.classify`), or the
 *   retry schedule ended; no attempt starts until `TokenService.refresh` is called, and callers get
 *   the still-valid token until it expires, then this error.
 * - `Invalidated`: `invalidate` dropped the token of that generation.
 * - `StoreUnavailable`: a shared `TokenStore` failed (or did not answer) after answering: the service
 *   carries on with its valid token and its own single flight. `StoreRecovered`: it answers again.
 * - `StoreReseeded`: the shared store was found empty (a Redis restarted without persistence) and
 *   seeded again with this process's token of `generation`.
 *
 * @since 0.1.0
 * @category Models
 */
export type TokenEvent = Data.TaggedEnum<{
  Refreshed: {
    readonly reason: Reason
    readonly generation: number
    readonly expiresAt: number
    readonly refreshAt: number
    readonly refreshToken: "rotated" | "kept" | "none"
  }
  LoggedIn: {
    readonly reason: Reason
    readonly generation: number
    readonly expiresAt: number
    readonly refreshAt: number
  }
  Adopted: {
    readonly generation: number
    readonly expiresAt: number
    readonly refreshAt: number
  }
  Failed: {
    readonly reason: Reason
    readonly operation: Operation
    readonly error: TokenError
    readonly attempt: number
    readonly retryAt: number
  }
  Terminal: {
    readonly reason: Reason
    readonly operation: Operation
    readonly error: TokenError
  }
  Invalidated: {
    readonly reason: Reason
    readonly generation: number
  }
  StoreUnavailable: {
    readonly operation: "get" | "set" | "lock"
    readonly error: TokenStoreError
  }
  StoreRecovered: {}
  StoreReseeded: {
    readonly generation: number
  }
}>

/**
 * Constructors and matchers of `TokenEvent`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const TokenEvent = Data.taggedEnum<TokenEvent>()
