/**
 * The stores that live in this process (`TokenStore.makeMemory`): they answer at once, so
 * `TokenService` does not bound their calls with a timer (it would cost every refresh a race).
 *
 * @internal
 */

const inProcess = new WeakSet<object>()

/** Marks `store` as one of this process, and returns it. */
export const mark = <S extends object>(store: S): S => {
  inProcess.add(store)
  return store
}

/** Whether `store` was marked by `mark`. */
export const isInProcess = (store: object): boolean => inProcess.has(store)
