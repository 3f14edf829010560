import * as fs from 'node:fs';

const LOCK_STALE_MS = 120_000;

/** A lock file created with O_EXCL; one left by a dead process or older than two minutes is broken. */
export async function acquireLock(lockFile: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = 0;
      let age = 0;
      try {
        holder = Number(fs.readFileSync(lockFile, 'utf8')) || 0;
        age = Date.now() - fs.statSync(lockFile).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((holder && !isProcessAlive(holder)) || age > LOCK_STALE_MS) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** True for a live process, also one of another user (EPERM) such as the postgres server. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
