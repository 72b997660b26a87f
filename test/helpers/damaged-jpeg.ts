/** JPEGs damaged the ways libjpeg only warns about, for the image-loading tests. */

/**
 * Four damaged copies of a baseline JPEG: cut in the middle of its scan and closed with an
 * end-of-image marker; with 64 pseudo-random bytes written over the middle of its scan;
 * with three bytes of padding before its start-of-scan marker; and both padded and cut, so
 * that the harmless padding warning comes before the one about the cut.
 */
export function damagedJpegs(jpeg: Buffer): { cutWithEnd: Buffer; scanGarbage: Buffer; padded: Buffer; paddedCut: Buffer } {
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  const middle = Math.floor((sos + jpeg.length) / 2);
  const scanGarbage = Buffer.from(jpeg);
  let seed = 12345;
  for (let i = middle; i < middle + 64; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    scanGarbage[i] = seed >>> 24;
  }
  const padding = Buffer.from([0x00, 0x11, 0x22]);
  const end = Buffer.from([0xff, 0xd9]);
  return {
    cutWithEnd: Buffer.concat([jpeg.subarray(0, middle), end]),
    scanGarbage,
    padded: Buffer.concat([jpeg.subarray(0, sos), padding, jpeg.subarray(sos)]),
    paddedCut: Buffer.concat([jpeg.subarray(0, sos), padding, jpeg.subarray(sos, middle), end]),
  };
}
