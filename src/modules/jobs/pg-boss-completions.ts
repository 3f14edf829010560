import { Logger } from '@nestjs/common';

type Completion = (...args: unknown[]) => Promise<unknown>;

/**
 * pg-boss 10 records a job's end (`complete()`, `fail()`) after its handler without awaiting it
 * (timgit/pg-boss#577, fixed in pg-boss 11): with the database gone at that moment, the rejection is
 * unhandled and ends the process. Every instance ends jobs every few seconds (webhook turns), so a
 * database restart would kill them all. The rejection is caught here and logged; the job stays
 * active, and the queue's upkeep gives it out again after its expiry, as for a dead instance.
 * Remove when moving to pg-boss 11 or later.
 */
export function catchUnawaitedCompletions(): void {
  const Manager = require('pg-boss/src/manager') as { prototype: Record<string, Completion & { caught?: true }> };
  const logger = new Logger('Jobs');
  for (const name of ['complete', 'fail']) {
    const original = Manager.prototype[name];
    if (typeof original !== 'function') throw new Error(`pg-boss has no Manager.${name}: see src/modules/jobs/pg-boss-completions.ts`);
    if (original.caught) continue;
    const caught: Completion & { caught?: true } = function (this: unknown, ...args: unknown[]) {
      return original.apply(this, args).catch((error: Error) => {
        logger.warn(`job queue: a job's end could not be recorded (${error.message}); it is given out again after its expiry`);
        return { jobs: [], requested: 0, affected: 0 };
      });
    };
    caught.caught = true;
    Manager.prototype[name] = caught;
  }
}
