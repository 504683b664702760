/**
 * Where the committed TEST-ONLY certificates live.
 *
 * @internal
 */
import * as Url from "node:url"

/** @internal */
export const fixturesDirectory: string = Url.fileURLToPath(new URL("../../fixtures/", import.meta.url))
