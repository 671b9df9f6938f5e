// Where to put k probes in a range so that the largest part left to search is as small as possible.

/**
 * Chooses new probe positions in the candidate range `0..top` (a prefix ending at `top` is known
 * to have failed, or, for a fix search, to have passed). `busy` holds positions already being
 * tested; each of them already splits the range. Returns at most `free` new positions, each below
 * `top`, so that the largest group of candidates left is as small as possible. With no busy
 * positions that is k-ary search: `free` probes split `top + 1` candidates into `free + 1` groups
 * of nearly equal size.
 */
export function splitRange(top: number, busy: readonly number[], free: number): number[] {
  if (top <= 0 || free <= 0) return [];
  const cuts = [...new Set(busy.filter((p) => p >= 0 && p < top))].sort((a, b) => a - b);
  const points = [-1, ...cuts, top];
  const gaps = points.slice(1).map((p, i) => ({ from: points[i]!, size: p - points[i]!, probes: 0 }));
  let left = free;
  while (left > 0) {
    let best: (typeof gaps)[number] | undefined;
    let bestPart = 1;
    for (const gap of gaps) {
      if (gap.probes + 1 >= gap.size) continue; // every candidate of the gap is already its own group
      const part = Math.ceil(gap.size / (gap.probes + 1));
      if (part > bestPart) {
        best = gap;
        bestPart = part;
      }
    }
    if (!best) break;
    best.probes += 1;
    left -= 1;
  }
  const out: number[] = [];
  for (const gap of gaps) {
    const groups = gap.probes + 1;
    let end = gap.from;
    for (let g = 1; g < groups; g++) {
      // groups of sizes floor or ceil of size/groups; the larger ones first
      const size = Math.floor(gap.size / groups) + (g <= gap.size % groups ? 1 : 0);
      end += size;
      out.push(end);
    }
  }
  return out.sort((a, b) => a - b);
}
