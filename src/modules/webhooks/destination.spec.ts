import type { LookupAddress } from 'node:dns';
import { checkUrl, DestinationRefused, nonPublicRange, parseAllowedHosts, resolveDestination, type Lookup } from './destination';

const none = parseAllowedHosts('');
const resolvingTo =
  (...addresses: string[]): Lookup =>
  (_host, _options, callback) =>
    callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('where a webhook may send', () => {
  it('public unicast addresses are public; loopback, private, link-local, shared, reserved and mapped ones are not', () => {
    expect(nonPublicRange('93.184.215.14')).toBeUndefined();
    expect(nonPublicRange('2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
    for (const [address, range] of [
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['fd00:ec2::254', 'uniqueLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['192.0.2.1', 'reserved'],
      ['224.0.0.1', 'multicast'],
    ]) {
      expect(nonPublicRange(address)).toBe(range);
    }
  });

  it('https only, unless the host is listed; no credentials, no fragment', () => {
    expect(() => checkUrl('http://93.184.215.14/', none)).toThrow(DestinationRefused);
    expect(checkUrl('http://127.0.0.1:8080/hook', parseAllowedHosts(' 127.0.0.1 , Hooks.Internal ')).allowed).toBe(true);
    expect(checkUrl('http://hooks.internal/x', parseAllowedHosts('hooks.internal')).allowed).toBe(true);
    expect(checkUrl('http://[::1]:8080/x', parseAllowedHosts('[::1]')).allowed).toBe(true);
    expect(() => checkUrl('https://a:b@93.184.215.14/', none)).toThrow(DestinationRefused);
    expect(() => checkUrl('https://93.184.215.14/#x', none)).toThrow(DestinationRefused);
    expect(() => checkUrl('javascript:alert(1)', none)).toThrow(DestinationRefused);
  });

  it('an IP written another way is read as the address it is (2130706433 is 127.0.0.1)', () => {
    expect(() => checkUrl('https://2130706433/', none)).toThrow(/loopback/);
    expect(() => checkUrl('https://0x7f.1/', none)).toThrow(/loopback/);
  });

  it('a name is refused when any address it resolves to is not public, and accepted when all are', async () => {
    await expect(resolveDestination(checkUrl('https://rebind.example/', none), resolvingTo('93.184.215.14', '10.0.0.1'))).rejects.toThrow(/private/);
    await expect(resolveDestination(checkUrl('https://ok.example/', none), resolvingTo('93.184.215.14'))).resolves.toEqual([{ address: '93.184.215.14', family: 4 }]);
    await expect(resolveDestination(checkUrl('https://internal.example/', parseAllowedHosts('internal.example')), resolvingTo('10.0.0.1'))).resolves.toHaveLength(1);
  });

  it('a name that does not resolve is refused with the reason', async () => {
    const failing: Lookup = (_host, _options, callback) => callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
    await expect(resolveDestination(checkUrl('https://nowhere.example/', none), failing)).rejects.toThrow(/ENOTFOUND/);
  });
});
