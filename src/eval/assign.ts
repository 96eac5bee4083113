/**
 * Optimal one-to-one assignment on a sparse bipartite graph: among all matchings with the largest
 * number of pairs, the one with the smallest total cost. Solved as min-cost max-flow by successive
 * shortest augmenting paths (Dijkstra with Johnson potentials, the sparse form of the Hungarian /
 * Jonker–Volgenant method), separately on each connected component, so that many small clusters of
 * candidate pairs (the usual case for picks near particles) stay linear in practice.
 */

/** Candidate pairs as parallel arrays: pair e joins left[e] (0..nLeft-1) and right[e] (0..nRight-1). */
export interface SparseCosts {
  left: Int32Array;
  right: Int32Array;
  /** Non-negative cost of each pair (a distance). */
  cost: Float64Array;
}

/**
 * Returns the matched pairs [leftIndex, rightIndex], sorted by leftIndex: a maximum-cardinality
 * matching of minimum total cost among maximum ones.
 */
export function optimalAssignment(nLeft: number, nRight: number, pairs: SparseCosts): Array<[number, number]> {
  const nEdges = pairs.left.length;
  // Adjacency of left nodes in CSR form.
  const start = new Int32Array(nLeft + 1);
  for (let e = 0; e < nEdges; e++) start[pairs.left[e] + 1]++;
  for (let i = 0; i < nLeft; i++) start[i + 1] += start[i];
  const adj = new Int32Array(nEdges);
  const fill = start.slice(0, nLeft);
  for (let e = 0; e < nEdges; e++) adj[fill[pairs.left[e]]++] = e;

  const matchOfLeft = new Int32Array(nLeft).fill(-1); // edge index or -1
  const matchOfRight = new Int32Array(nRight).fill(-1);
  const solver = new ComponentSolver(nLeft, nRight, pairs, start, adj, matchOfLeft, matchOfRight);
  for (const component of components(nLeft, nRight, pairs, start, adj)) solver.solve(component);

  const result: Array<[number, number]> = [];
  for (let i = 0; i < nLeft; i++) if (matchOfLeft[i] >= 0) result.push([i, pairs.right[matchOfLeft[i]]]);
  return result;
}

/** Connected components, as lists of their left nodes (left nodes without pairs are skipped). */
function* components(
  nLeft: number,
  nRight: number,
  pairs: SparseCosts,
  start: Int32Array,
  adj: Int32Array,
): Generator<Int32Array> {
  // Right node → its pairs, to walk from right back to left.
  const rStart = new Int32Array(nRight + 1);
  for (let e = 0; e < pairs.right.length; e++) rStart[pairs.right[e] + 1]++;
  for (let j = 0; j < nRight; j++) rStart[j + 1] += rStart[j];
  const rAdj = new Int32Array(pairs.right.length);
  const rFill = rStart.slice(0, nRight);
  for (let e = 0; e < pairs.right.length; e++) rAdj[rFill[pairs.right[e]]++] = e;

  const seenLeft = new Uint8Array(nLeft);
  const seenRight = new Uint8Array(nRight);
  const stack: number[] = [];
  for (let seed = 0; seed < nLeft; seed++) {
    if (seenLeft[seed] || start[seed] === start[seed + 1]) continue;
    const members: number[] = [];
    seenLeft[seed] = 1;
    stack.push(seed);
    while (stack.length > 0) {
      const i = stack.pop()!;
      members.push(i);
      for (let k = start[i]; k < start[i + 1]; k++) {
        const j = pairs.right[adj[k]];
        if (seenRight[j]) continue;
        seenRight[j] = 1;
        for (let q = rStart[j]; q < rStart[j + 1]; q++) {
          const i2 = pairs.left[rAdj[q]];
          if (!seenLeft[i2]) {
            seenLeft[i2] = 1;
            stack.push(i2);
          }
        }
      }
    }
    yield Int32Array.from(members);
  }
}

/**
 * Successive shortest paths on one component. Nodes: left i → i, right j → nLeft + j. Residual
 * arcs: left→right along unmatched pairs (cost c), right→left along matched pairs (cost −c).
 * All free left nodes are sources at distance 0; the first free right node settled ends a search.
 * Potentials updated by min(dist, D), D the length of the path found, keep reduced costs
 * non-negative; free nodes on each side keep equal potentials, so the implicit source and sink need
 * none of their own.
 */
class ComponentSolver {
  private readonly potential: Float64Array;
  private readonly dist: Float64Array;
  private readonly via: Int32Array; // edge used to reach a right node
  private readonly settled: Uint8Array;
  private readonly heap = new MinHeap();

  constructor(
    private readonly nLeft: number,
    nRight: number,
    private readonly pairs: SparseCosts,
    private readonly start: Int32Array,
    private readonly adj: Int32Array,
    private readonly matchOfLeft: Int32Array,
    private readonly matchOfRight: Int32Array,
  ) {
    const n = nLeft + nRight;
    this.potential = new Float64Array(n);
    this.dist = new Float64Array(n).fill(Infinity);
    this.via = new Int32Array(nRight).fill(-1);
    this.settled = new Uint8Array(n);
  }

  solve(leftNodes: Int32Array): void {
    const touched: number[] = [];
    for (;;) {
      const end = this.shortestPath(leftNodes, touched);
      if (end < 0) break;
      this.augment(end);
    }
  }

  /** Returns the free right node ending the shortest augmenting path, or −1 when none is left. */
  private shortestPath(leftNodes: Int32Array, touched: number[]): number {
    const { nLeft, pairs, start, adj, matchOfLeft, matchOfRight, potential, dist, settled, heap } = this;
    for (const node of touched) {
      dist[node] = Infinity;
      settled[node] = 0;
    }
    touched.length = 0;
    heap.clear();
    for (const i of leftNodes) {
      if (matchOfLeft[i] >= 0) continue;
      dist[i] = 0;
      touched.push(i);
      heap.push(0, i);
    }
    let end = -1;
    let endDist = Infinity;
    while (heap.size > 0) {
      const [d, node] = heap.pop();
      if (settled[node] || d > dist[node]) continue;
      settled[node] = 1;
      if (node >= nLeft) {
        const j = node - nLeft;
        const back = matchOfRight[j];
        if (back < 0) {
          end = j;
          endDist = d;
          break;
        }
        // The only residual arc out of a matched right node goes back along its matched pair.
        const i = pairs.left[back];
        const nd = d + Math.max(0, potential[node] - potential[i] - pairs.cost[back]);
        if (nd < dist[i]) {
          if (dist[i] === Infinity) touched.push(i);
          dist[i] = nd;
          heap.push(nd, i);
        }
        continue;
      }
      for (let k = start[node]; k < start[node + 1]; k++) {
        const e = adj[k];
        if (e === matchOfLeft[node]) continue;
        const r = nLeft + pairs.right[e];
        if (settled[r]) continue;
        // Clamp rounding noise: reduced costs are non-negative in exact arithmetic.
        const nd = d + Math.max(0, pairs.cost[e] + potential[node] - potential[r]);
        if (nd < dist[r]) {
          if (dist[r] === Infinity) touched.push(r);
          dist[r] = nd;
          this.via[r - nLeft] = e;
          heap.push(nd, r);
        }
      }
    }
    if (end < 0) return -1;
    // Adding min(dist, D) to every node, shifted by −D so that nodes never reached keep theirs.
    for (const node of touched) if (dist[node] < endDist) potential[node] += dist[node] - endDist;
    return end;
  }

  /** Flips the matched/unmatched state of the pairs along the path ending at free right node j. */
  private augment(j: number): void {
    const { pairs, matchOfLeft, matchOfRight, via } = this;
    for (;;) {
      const e = via[j];
      const i = pairs.left[e];
      const previous = matchOfLeft[i];
      matchOfLeft[i] = e;
      matchOfRight[j] = e;
      if (previous < 0) return;
      j = pairs.right[previous];
    }
  }
}

/** Binary min-heap of (key, node) with parallel typed storage. */
class MinHeap {
  private keys = new Float64Array(64);
  private nodes = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, node: number): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      this.keys = keys;
      const nodes = new Int32Array(this.size * 2);
      nodes.set(this.nodes);
      this.nodes = nodes;
    }
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.keys[at] = this.keys[parent];
      this.nodes[at] = this.nodes[parent];
      at = parent;
    }
    this.keys[at] = key;
    this.nodes[at] = node;
  }

  pop(): [number, number] {
    const top: [number, number] = [this.keys[0], this.nodes[0]];
    const key = this.keys[--this.size];
    const node = this.nodes[this.size];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.keys[child + 1] < this.keys[child]) child++;
      if (this.keys[child] >= key) break;
      this.keys[at] = this.keys[child];
      this.nodes[at] = this.nodes[child];
      at = child;
    }
    this.keys[at] = key;
    this.nodes[at] = node;
    return top;
  }
}
