/**
 * Random sequential placement without overlap: every object is a ball (its bounding sphere about
 * its centre) that must lie wholly inside the volume and keep a gap to every ball placed before.
 */
import type { Shape3 } from '../../volume/volume.js';
import type { Rng } from './rng.js';

export interface Ball {
  x: number;
  y: number;
  z: number;
  radius: number;
}

export class Placer {
  private readonly balls: Ball[] = [];

  constructor(
    private readonly shape: Shape3,
    private readonly rng: Rng,
    /** Minimum distance between the surfaces of two balls, in voxels. */
    private readonly gap: number,
  ) {}

  /** Tries up to `maxTries` random centres; returns the ball placed, or undefined when none fitted. */
  place(radius: number, maxTries: number): Ball | undefined {
    const [nz, ny, nx] = this.shape;
    if (2 * radius > Math.min(nz, ny, nx) - 1) return undefined;
    for (let t = 0; t < maxTries; t++) {
      const ball = {
        x: this.rng.range(radius, nx - 1 - radius),
        y: this.rng.range(radius, ny - 1 - radius),
        z: this.rng.range(radius, nz - 1 - radius),
        radius,
      };
      if (this.fits(ball)) {
        this.balls.push(ball);
        return ball;
      }
    }
    return undefined;
  }

  private fits(b: Ball): boolean {
    for (const o of this.balls) {
      const min = b.radius + o.radius + this.gap;
      const dx = b.x - o.x, dy = b.y - o.y, dz = b.z - o.z;
      if (dx * dx + dy * dy + dz * dz < min * min) return false;
    }
    return true;
  }
}
