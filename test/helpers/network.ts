// Keeps a test file off the network: every test starts with real connections refused and ends with
// nock's interceptors cleared, so one test's stand-ins never answer another's requests.
import nock from 'nock';
import { afterEach, beforeEach } from 'vitest';

export function offline(): void {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
