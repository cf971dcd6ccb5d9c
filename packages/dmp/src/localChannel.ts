import { FadingLinks, type LocalView } from '@dmpemu/wireless';

/**
 * faults.channel as an agent lives it: the channel evolves every round (@dmpemu/wireless
 * channelDynamics) and the agent measures its links anew at rounds coherenceRounds, 2
 * coherenceRounds, ...; in between it holds the CSI of its last measurement (stale).
 */
export interface ChannelFault {
  seed: number;
  correlation: number;
  coherenceRounds: number;
}

/** The large-scale amplitudes of an agent's links: its direct link and, per neighbour slot, the incoming and outgoing one. */
export interface LinkScales {
  direct: number;
  in: Float64Array;
  out: Float64Array;
}

/** Whether round t is one where agents measure their channel anew (never round 0: the view they start with is round 0's). */
export function refreshesAt(c: ChannelFault | undefined, t: number): boolean {
  return !!c && t > 0 && t % c.coherenceRounds === 0;
}

/** An agent's links followed round by round; `viewAt(t)` is the local view it measures at round t. */
export class LocalChannel {
  private readonly links: FadingLinks;

  constructor(private readonly view: LocalView, c: ChannelFault, scales: LinkScales) {
    const { k, neighbours: nb } = view;
    const n = nb.length;
    const from = new Int32Array(1 + 2 * n), to = new Int32Array(1 + 2 * n);
    const amp = new Float64Array(1 + 2 * n), large = new Float64Array(1 + 2 * n);
    from[0] = to[0] = k;
    amp[0] = view.direct;
    large[0] = scales.direct;
    nb.forEach((j, i) => {
      // slot i: the incoming link j -> k at 1 + i, the outgoing k -> j at 1 + n + i
      [from[1 + i], to[1 + i], amp[1 + i], large[1 + i]] = [j, k, view.gIn[i], scales.in[i]];
      [from[1 + n + i], to[1 + n + i], amp[1 + n + i], large[1 + n + i]] = [k, j, view.gOut[i], scales.out[i]];
    });
    this.links = new FadingLinks(c, from, to, amp, large);
  }

  /** The local view of round t's channel (t at or after the last one asked). */
  viewAt(t: number): LocalView {
    const L = this.links;
    L.advance(t);
    const n = this.view.neighbours.length;
    return { ...this.view, direct: L.amplitude(0), gIn: Float64Array.from({ length: n }, (_, i) => L.amplitude(1 + i)), gOut: Float64Array.from({ length: n }, (_, i) => L.amplitude(1 + n + i)) };
  }
}

/** The large-scale amplitudes of agent k's links in view `v`, from the instance's K x K matrix. */
export function linkScales(large: Float64Array, K: number, v: LocalView): LinkScales {
  const k = v.k;
  return { direct: large[k * K + k], in: Float64Array.from(v.neighbours, (j) => large[j * K + k]), out: Float64Array.from(v.neighbours, (j) => large[k * K + j]) };
}
