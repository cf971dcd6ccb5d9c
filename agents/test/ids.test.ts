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
    // past 2^53, k + 1 === k: the loop never ended (2.4 GB, then V8 aborted)
    expect(() => parseIds('9007199254740992')).toThrow('agent ids "9007199254740992": ids are at most 19999');
    expect(() => parseIds('0-9,20000')).toThrow('agent ids "20000": ids are at most 19999');
    expect(parseIds('19999')).toEqual([19999]);
    expect(() => parseIds('3,3')).toThrow('agent ids "3,3": 3 is listed twice');
    expect(() => parseIds('0-2,1-3')).toThrow('agent ids "0-2,1-3": 1 is listed twice');
  });
});
