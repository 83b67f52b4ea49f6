import { execFileSync } from 'node:child_process';

/**
 * Finds a machine binary a test needs (influxd, mosquitto, socat, chromium). Returns its path, or
 * undefined with a one-line reason printed so the caller can skip. Under CI=true a missing
 * binary throws: CI must never pass by skipping.
 */
export function requireBinary(name: string): string | undefined {
  let path: string | undefined;
  try {
    path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    path = undefined;
  }
  if (path) return path;
  if (process.env.CI === 'true') throw new Error(`${name} is not installed; CI needs it (see .ci/run)`);
  console.warn(`skipping: ${name} is not on PATH (apt-get install ${name === 'influxd' ? 'influxdb' : name})`);
  return undefined;
}
