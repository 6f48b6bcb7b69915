/**
 * Loads a Lambda handler module as a cold start would: a fresh module instance that reads the given
 * environment at load time (a variable set to undefined is removed). The environment is restored after.
 */
export function coldStart<T>(load: () => T, env: Record<string, string | undefined>): T {
  const before = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    let module: T | undefined;
    jest.isolateModules(() => {
      module = load();
    });
    return module as T;
  } finally {
    process.env = before;
  }
}
