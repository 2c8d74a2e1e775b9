import { describe, expect, it } from 'vitest';
import { ConfigError, configWith, loadConfig } from '../src/config/index.js';

describe('controls configuration', () => {
  it('is off by default', () => {
    const c = configWith();
    expect([c.budget, c.budgetPerKey, c.budgetPerProject, c.rateLimit, c.rpm, c.tpm, c.cache]).toEqual([null, null, null, false, null, null, false]);
    expect([c.budgetPeriod, c.budgetTimezone, c.cacheTtl, c.cacheMaxEntries, c.cacheMaxBytes]).toEqual(['daily', 'UTC', 3600, 1000, 64 * 1024 * 1024]);
  });

  it('reads Headroom\'s environment variables', () => {
    const c = configWith({}, { HEADROOM_BUDGET: '12.5', HEADROOM_BUDGET_PERIOD: 'monthly', HEADROOM_RPM: '100', HEADROOM_TPM: '200000' });
    expect([c.budget, c.budgetPeriod, c.rpm, c.tpm]).toEqual([12.5, 'monthly', 100, 200000]);
  });

  it('takes Headroom\'s flags, including --no-cache and --no-rate-limit', () => {
    const { config } = loadConfig({ env: { HEADROOM_CACHE: '1', HEADROOM_RATE_LIMIT: 'on' }, flags: { budget: '5', budgetPeriod: 'weekly', cache: false, rateLimit: false, cacheMaxBytes: '8MiB' } });
    expect([config.budget, config.budgetPeriod, config.cache, config.rateLimit, config.cacheMaxBytes]).toEqual([5, 'weekly', false, false, 8 * 1024 * 1024]);
  });

  it.each([
    [{ budget: -1 }, /budget \(override\) = -1: .*Accepted: a number from 0 to/],
    [{ budgetPeriod: 'yearly' }, /budgetPeriod .*Accepted: one of hourly, daily, weekly, monthly/],
    [{ budgetTimezone: 'Mars/Olympus_Mons' }, /budgetTimezone .*"Mars\/Olympus_Mons": not `UTC`, `local`/],
    [{ budgetTimezone: 'Europe/Paris; rm -rf' }, /budgetTimezone/],
    [{ rpm: 0 }, /rpm \(override\) = 0/],
    [{ cacheTtl: 0 }, /cacheTtl/],
    [{ cacheMaxBytes: '12 parsecs' }, /cacheMaxBytes/],
  ])('rejects %j with a clear message', (overrides, message) => {
    let err: unknown;
    try {
      configWith(overrides as Record<string, string | number>);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts IANA timezones and `local`', () => {
    expect(configWith({ budgetTimezone: 'America/New_York' }).budgetTimezone).toBe('America/New_York');
    expect(configWith({ budgetTimezone: 'local' }).budgetTimezone).toBe('local');
  });
});
