/**
 * The platform's time format on the wire: `yyyyMMdd'T'HHmmss'Z'` in UTC (`20180516T104312Z`).
 *
 * @internal
 */

/**
 * Epoch ms in the platform's time format.
 *
 * @internal
 */
export const formatWireTime = (millis: number): string =>
  new Date(millis).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")

const pattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/**
 * A time in the platform's format as epoch ms, or `undefined` when it is not one.
 *
 * @internal
 */
export const parseWireTime = (text: string): number | undefined => {
  const parts = pattern.exec(text)
  if (parts === null) return undefined
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = parts.slice(1).map(Number)
  const time = Date.UTC(year, month - 1, day, hour, minute, second)
  // Date.UTC rolls 20240231 over into March: refuse a time that does not read back the same.
  return formatWireTime(time) === text ? time : undefined
}
