import { describe, expect, it } from 'vitest';
import { signBot, verifyBotSignature, withinWindow } from './hmac.js';

const fields = {
  clientType: 'MessengerBotR',
  botName: 'LOA.i',
  deviceUUID: 'dev1',
  macAddress: 'unknown',
  ipAddress: '10.0.0.2',
  timestamp: 1732500000000,
};

describe('bot signature', () => {
  it('matches the protocol test vector', () => {
    expect(signBot(fields, 'k3y', 's4lt')).toBe('01c95b5bcdd61c67b2257db60a3edbdbf4df32215b66efb3c73b23ac01a6d145');
  });
  it('rejects a signature made with another key, salt or field', () => {
    const sig = signBot(fields, 'k3y', 's4lt');
    expect(verifyBotSignature(fields, sig, 'k3y', 's4lt')).toBe(true);
    expect(verifyBotSignature(fields, sig, 'other', 's4lt')).toBe(false);
    expect(verifyBotSignature(fields, sig, 'k3y', 'salt')).toBe(false);
    expect(verifyBotSignature({ ...fields, botName: 'x' }, sig, 'k3y', 's4lt')).toBe(false);
    expect(verifyBotSignature(fields, 'zz', 'k3y', 's4lt')).toBe(false);
  });
  it('accepts five minutes either way, no more', () => {
    expect(withinWindow(1000, 1000 + 5 * 60_000)).toBe(true);
    expect(withinWindow(1000, 1001 + 5 * 60_000)).toBe(false);
    expect(withinWindow(Number.NaN, 0)).toBe(false);
  });
});
