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

/**
 * Objects that are not balls (filaments, sheets): true when a ball would come closer than `gap`
 * voxels to one of them.
 */
export type Obstacle = (ball: Ball, gap: number) => boolean;

export class Placer {
  private readonly balls: Ball[] = [];
  private obstacle: Obstacle | undefined;

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

  /** Balls placed so far (vesicles with their full outer radius, gold, particles). */
  get placed(): readonly Ball[] {
    return this.balls;
  }

  /** Keeps later balls clear of other objects as well (set once those objects are drawn). */
  setObstacle(obstacle: Obstacle): void {
    this.obstacle = obstacle;
  }

  /**
   * Places this very ball when it fits, for objects whose position is chosen by the caller (a
   * protein touching a membrane): `obstacleGap` is its gap to the obstacles (0 lets it touch them).
   */
  placeAt(ball: Ball, obstacleGap = this.gap): boolean {
    const [nz, ny, nx] = this.shape;
    const r = ball.radius;
    const inside = ball.x >= r && ball.x <= nx - 1 - r && ball.y >= r && ball.y <= ny - 1 - r && ball.z >= r && ball.z <= nz - 1 - r;
    if (!inside || !this.fits(ball, obstacleGap)) return false;
    this.balls.push(ball);
    return true;
  }

  private fits(b: Ball, obstacleGap = this.gap): boolean {
    for (const o of this.balls) {
      const min = b.radius + o.radius + this.gap;
      const dx = b.x - o.x, dy = b.y - o.y, dz = b.z - o.z;
      if (dx * dx + dy * dy + dz * dz < min * min) return false;
    }
    return !this.obstacle?.(b, obstacleGap);
  }
}
