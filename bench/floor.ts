// The information-theoretic floor for runs per change: H2(p) / C_Z(f).

/** Binary entropy in bits. */
export function h2(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
}

/** Capacity of the Z-channel that a test failing good code with probability f is. */
export function zCapacity(f: number): number {
  if (f <= 0) return 1;
  if (f >= 1) return 0;
  return Math.log2(1 + (1 - f) * Math.pow(f, f / (1 - f)));
}

/** Fewest runs per change that any strategy can average: each change carries H2(p) bits, each run gives at most C_Z(f). */
export function runsFloor(p: number, f: number): number {
  return h2(p) / zCapacity(f);
}
