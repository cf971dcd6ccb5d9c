import { describe, expect, it } from 'vitest';
import { redactUrl, withoutCredentials } from '@dmpemu/wire';

describe('redactUrl', () => {
  it.each([
    ['nats://u:secret@host:4222', 'nats://u:***@host:4222'],
    ['nats://token@host:4222', 'nats://***@host:4222'],
    ['nats://u:p@ss@host:4222/x', 'nats://u:***@host:4222/x'],
    ['u:secret@host:4222', 'u:***@host:4222'],
    ['tls://u:@host', 'tls://u:***@host'],
    ['nats://a:1@h1:4222,nats://b:2@h2:4222', 'nats://a:***@h1:4222,nats://b:***@h2:4222'],
    ['nats://host:4222', 'nats://host:4222'],
    ['nats://127.0.0.1:1', 'nats://127.0.0.1:1'],
    ['nats://host:4222/path@x', 'nats://host:4222/path@x'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('withoutCredentials', () => {
  it.each([
    ['nats://coordinator:secret@127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['nats://token@host:4222', 'nats://host:4222'],
    ['nats://u:p@ss@host:4222/x', 'nats://host:4222/x'],
    ['nats://a:1@h1:4222,nats://b:2@h2:4222', 'nats://h1:4222,nats://h2:4222'],
    ['nats://host:4222', 'nats://host:4222'],
  ])('%s -> %s', (url, bare) => {
    expect(withoutCredentials(url)).toBe(bare);
  });
});
