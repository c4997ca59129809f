/**
 * One metric's points as the page receives them: (step, value) in two typed arrays that
 * double when full, so that a push costs no allocation most of the time.
 * Pure: no DOM. May import: nothing.
 */
export class Buffer {
  constructor() { this.clear(); }
  clear() {
    this.n = 0;
    this.x = new Float64Array(1024);
    this.y = new Float32Array(1024);
  }
  push(x, y) {
    if (this.n === this.x.length) {
      const nx = new Float64Array(this.n * 2); nx.set(this.x); this.x = nx;
      const ny = new Float32Array(this.n * 2); ny.set(this.y); this.y = ny;
    }
    this.x[this.n] = x;
    this.y[this.n++] = y ?? NaN;
  }
  get last() { return this.n ? this.x[this.n - 1] : -Infinity; }
}
