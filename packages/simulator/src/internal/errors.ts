/**
 * The platform's error answers: HTTP status, `error_code` and the platform's exact `error_desc`.
 *
 * @internal
 */
import * as Data from "effect/Data"

/** @internal */
export interface ErrorSpec {
  readonly status: number
  readonly code: string
  readonly description: string
}

/** @internal */
export const specs = {
  credentials: { status: 401, code: "100208", description: "AppId or secret is not right." },
  deviceFrozen: { status: 400, code: "100449", description: "The device is freezed cant operate." },
  appFrozen: { status: 400, code: "100247", description: "Operation not allowed. The application has been frozen." },
  missingParameter: { status: 400, code: "102202", description: "Required Parameter is null or empty." },
  invalidInput: { status: 400, code: "50400", description: "The input is invalid." },
  bodyTooLarge: { status: 413, code: "50400", description: "The input is invalid." },
  refreshFailed: { status: 401, code: "100006", description: "Refresh access token failed." },
  internal: { status: 500, code: "50252", description: "Internal server error." },
  missingAppKey: { status: 401, code: "100025", description: "AppId for auth not exist." },
  invalidToken: { status: 403, code: "1010005", description: "Invalid access token or appId." },
  throttled: { status: 403, code: "1010004", description: "app throttle exceed." },
  // The business APIs' answers to bad input (README: which of these are guesses).
  badRequest: { status: 400, code: "100022", description: "The input is invalid." },
  appNotAuthorized: { status: 403, code: "100217", description: "The application hasn't been authorized." },
  deviceNotFound: { status: 404, code: "100403", description: "The device is not existed." },
  deviceDataNotFound: { status: 404, code: "100418", description: "The deviceData is not existed." },
  deviceBound: { status: 400, code: "100416", description: "The device has already been bound." },
  illegalCallbackUrl: { status: 400, code: "100222", description: "The request callbackurl is illegal." },
  subscriptionNotFound: { status: 404, code: "100225", description: "The resource is not found." },
  // The platform documents no body for these two; the simulator answers in the same style.
  notFound: { status: 404, code: "404", description: "Resource not found." },
  methodNotAllowed: { status: 405, code: "405", description: "Method not allowed." }
} as const satisfies Record<string, ErrorSpec>

/**
 * A platform error answer, as a failure inside the simulator. It never leaves the process: the
 * router turns it into the error body.
 *
 * @internal
 */
export class PlatformReject extends Data.TaggedError("PlatformReject")<{ readonly spec: ErrorSpec }> {}

/** @internal */
export const reject = (spec: ErrorSpec): PlatformReject => new PlatformReject({ spec })
