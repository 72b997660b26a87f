/**
 * Stability score: how little a mask changes when the logit cutoff moves by +-offset,
 * measured as IoU of the two binarised masks. With offset >= 0 the high-cutoff mask lies
 * inside the low-cutoff one, so the IoU is just the ratio of their pixel counts.
 *
 * The reference divides 0 by 0 (NaN) when no logit exceeds threshold - offset; that NaN
 * fails any positive threshold, and here it is 0 instead, which fails it the same way and
 * serialises as a number.
 */
export function stabilityScore(logits: ArrayLike<number>, threshold = 0, offset = 1): number {
  const hi = threshold + offset;
  const lo = threshold - offset;
  let inner = 0;
  let outer = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > lo) outer++;
    if (v > hi) inner++;
  }
  return outer === 0 ? 0 : inner / outer;
}
