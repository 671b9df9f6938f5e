// SSH key pairs for tests that run a real ssh2 server. ssh2's ed25519 key generation writes a key
// it cannot parse back about one time in 256 (mscdex/ssh2 issues 1390 and 1513), so each key is
// parsed back before use and generated again when that fails: the test never meets a bad key.
import { utils } from 'ssh2';

const TRIES = 20;

/** A fresh ed25519 key pair whose private key ssh2 is known to parse. */
export function parseableKeyPair(): { private: string; public: string } {
  for (let i = 0; i < TRIES; i++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 generated ${TRIES} ed25519 keys in a row that it cannot parse`);
}
