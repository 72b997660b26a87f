/**
 * Byte sizes as people write them on a command line. The letters are SI multiples as in
 * `df -H` and ccache (`500M` = 500 000 000 bytes); `Ki`, `Mi`, `Gi`, `Ti` are the binary
 * ones (`1Gi` = 1024^3). A trailing `B` is allowed: `2GB`, `512MiB`.
 */

const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
};

/** Bytes for `text` (`1G`, `512Mi`, `2e9`, `750MB`), rounded down; undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*(k|m|g|t|ki|mi|gi|ti)?b?$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const bytes = Number(match[1]) * MULTIPLIERS[match[2] ?? ''];
  return Number.isFinite(bytes) ? Math.floor(bytes) : undefined;
}
