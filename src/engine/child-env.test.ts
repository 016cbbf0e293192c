import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowlistedEnv, gatewayCliEnv, withoutCredentials } from './child-env.js';

test('the CLI gets what it needs to authenticate and reach its API, nothing else', () => {
  const env = allowlistedEnv({
    HOME: '/home/u',
    PATH: '/usr/bin',
    ANTHROPIC_BASE_URL: 'http://proxy',
    ANTHROPIC_API_KEY: 'sk-ant-x',
    CLAUDE_CODE_USE_BEDROCK: '1',
    AWS_REGION: 'us-east-1',
    HTTPS_PROXY: 'http://p:3128',
    GATEWAY_API_KEY: 'gateway-secret',
    DATABASE_URL: 'postgres://secret',
    GITHUB_TOKEN: 'ghp_secret',
    NODE_OPTIONS: '--require evil.js',
  });
  assert.deepEqual(Object.keys(env).sort(), ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'AWS_REGION', 'CLAUDE_CODE_USE_BEDROCK', 'HOME', 'HTTPS_PROXY', 'PATH']);
  assert.deepEqual(Object.keys(withoutCredentials(env)).sort(), ['ANTHROPIC_BASE_URL', 'HOME', 'HTTPS_PROXY', 'PATH']);
});

test('the gateway always sets its retry policy and turns off side traffic', () => {
  const env = gatewayCliEnv(3);
  assert.equal(env.CLAUDE_CODE_MAX_RETRIES, '3');
  assert.equal(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
});
