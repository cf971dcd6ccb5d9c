import { describe, expect, it } from 'vitest';
import { formatIds, parseIds } from '../src/main.ts';

describe('agent id lists', () => {
  it('round-trip', () => {
    expect(formatIds([0, 1, 2, 4, 5, 9])).toBe('0-2,4-5,9');
    expect(parseIds('0-2,4-5,9')).toEqual([0, 1, 2, 4, 5, 9]);
  });
  it('reject garbage naming the list', () => {
    expect(() => parseIds('0-x')).toThrow('agent ids "0-x": expected a list like 0-49 or 1,4,7-9');
    expect(() => parseIds('0-1000000000')).toThrow('agent ids "0-1000000000": more than 10000 agents');
    expect(() => parseIds('5-2')).toThrow('agent ids "5-2": range end below its start');
  });
});
