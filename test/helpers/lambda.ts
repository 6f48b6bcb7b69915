import type { Context } from 'aws-lambda';

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

/** The Lambda context an invocation gets, as the runtime fills it. */
export function lambdaContext(functionName = 'ecr-admission-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/12/01/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
