/**
 * Cleanup after an operation (CLOSE of the handle it opened) that never hides why the
 * operation failed: after a failure the connection is often gone, and the cleanup's own
 * failure ("connection ... is closed") says nothing the first error did not.
 */

/**
 * Runs `work`, then `cleanup` whether it succeeded or not. When `work` failed, its error is the
 * one thrown and a failing cleanup is ignored; when it succeeded, a failing cleanup is the error
 * (a CLOSE refused after a write matters).
 */
export async function withCleanup<T>(work: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
  await cleanup();
  return result;
}
