import { describe, expect, it } from 'vitest';
import { BrokerNodes, brokerNodeLabel, parseBrokerUrls } from './broker-nodes.js';

const CLUSTER = 'amqp://kb:s3cret@127.0.0.1:5701, amqp://kb:s3cret@127.0.0.1:5702 ,amqp://kb:s3cret@127.0.0.1:5703';

describe('AMQP_URL as a list of nodes', () => {
  it('keeps one URL exactly as given, and every attempt goes to it', () => {
    const one = 'amqp://guest:guest@127.0.0.1:5672';
    const nodes = new BrokerNodes(one);
    expect(nodes.urls).toEqual([one]);
    for (let i = 0; i < 3; i++) {
      expect(nodes.current).toBe(one);
      nodes.advance();
    }
    expect(nodes.label).toBe('127.0.0.1:5672');
  });

  it('splits a comma-separated list, trimmed, and tries the nodes in turn, wrapping around', () => {
    const nodes = new BrokerNodes(CLUSTER);
    expect(nodes.urls).toHaveLength(3);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(nodes.label);
      nodes.advance();
    }
    expect(seen).toEqual(['127.0.0.1:5701', '127.0.0.1:5702', '127.0.0.1:5703', '127.0.0.1:5701', '127.0.0.1:5702']);
    expect(nodes.current).toBe('amqp://kb:s3cret@127.0.0.1:5703');
  });

  it('ignores empty entries (a trailing comma) and refuses a list naming no broker or something else', () => {
    expect(parseBrokerUrls('amqp://a:5672,,amqp://b:5672,')).toEqual(['amqp://a:5672', 'amqp://b:5672']);
    expect(() => parseBrokerUrls(' , ')).toThrow('AMQP_URL names no broker');
    expect(() => parseBrokerUrls('amqp://a:5672,redis://kb:pw@b:6379')).toThrow('AMQP_URL entry 2 is not an amqp:// or amqps:// URL: b:6379');
  });

  it('names a node by host and port (and vhost), never by its user or password', () => {
    expect(brokerNodeLabel('amqp://kb:s3cret@mq1.internal:5672')).toBe('mq1.internal:5672');
    expect(brokerNodeLabel('amqp://kb:s3cret@mq1')).toBe('mq1:5672');
    expect(brokerNodeLabel('amqps://kb:s3cret@mq1')).toBe('mq1:5671');
    expect(brokerNodeLabel('amqp://kb:s3cret@mq1:5672/shop')).toBe('mq1:5672/shop');
    expect(brokerNodeLabel('amqp://kb:s3cret@mq1:5672/%2F')).toBe('mq1:5672');
    expect(brokerNodeLabel('amqp://kb:pa%2Css@[::1]:5701')).toBe('[::1]:5701');
    for (const url of new BrokerNodes(CLUSTER).urls) expect(brokerNodeLabel(url)).not.toContain('s3cret');
  });
});
