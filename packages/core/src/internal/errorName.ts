/**
 * The `name` of our errors, as users have always seen it.
 *
 * @internal
 */

/**
 * Names each error class after its tag, as Effect 3 did: Effect 4 names a `Schema.TaggedError` after its
 * identifier (`@iocm/core/AccountFrozen`), which would change the first line of `String(error)`, of stacks, of
 * `Cause.pretty` and of logged causes. The classes' own modules call it once, right after defining them.
 *
 * @internal
 */
export const nameAfterTag = (errors: ReadonlyArray<{ readonly prototype: { readonly _tag: string } }>): void => {
  for (const error of errors) {
    Object.defineProperty(error.prototype, "name", {
      configurable: true,
      get(this: { readonly _tag: string }) {
        return this._tag
      }
    })
  }
}
