/** Bounds applied by readers to every length read from the wire (RFC 4251 §5 strings are uint32-prefixed). */
export interface WireLimits {
  /** Largest string/name-list/mpint we accept inside one packet. */
  readonly maxString: number;
  /** Most names in one name-list. */
  readonly maxNames: number;
}

// RFC 4251 §5 sets no limit on the number of names; any list that fits a 35000-byte packet (RFC 4253 §6.1) must be read
export const defaultWireLimits: WireLimits = { maxString: 256 * 1024, maxNames: 32768 };
