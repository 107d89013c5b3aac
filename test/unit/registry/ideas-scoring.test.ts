import { iceScore, weightsSetting } from '../../../services/registry/ideas/scoring';
import { sortIdeas, type PresentedIdea } from '../../../services/registry/ideas/model';

describe('ICE scoring of ideas', () => {
  it('is the weighted mean of the ratings, on the 1–10 scale', () => {
    const r = { expectedImpact: 9, confidence: 3, ease: 2 };
    expect(iceScore(r, { impact: 1, confidence: 1, ease: 1 })).toBe(4.67);
    expect(iceScore(r, { impact: 2, confidence: 1, ease: 1 })).toBe(5.75);
    expect(iceScore(r, { impact: 1, confidence: 0, ease: 0 })).toBe(9);
    expect(
      iceScore({ expectedImpact: 10, confidence: 10, ease: 10 }, { impact: 3, confidence: 2, ease: 1 }),
    ).toBe(10);
  });

  it('parses weights and refuses bad ones with a reason', () => {
    expect(weightsSetting.parse(undefined)).toEqual({ impact: 1, confidence: 1, ease: 1 });
    expect(weightsSetting.parse('ease:0.5, impact:2')).toEqual({ impact: 2, confidence: 1, ease: 0.5 });
    for (const bad of ['reach:1', 'impact:-1', 'impact:x', 'impact', 'impact:0,confidence:0,ease:0']) {
      expect(weightsSetting.safeParse(bad).success).toBe(false);
    }
  });

  it('sorts by score descending by default and breaks ties by key', () => {
    const idea = (key: string, score: number) => ({ key, score }) as PresentedIdea;
    const sorted = sortIdeas([idea('b', 5), idea('c', 7), idea('a', 5)], 'score');
    expect(sorted.map((i) => i.key)).toEqual(['c', 'a', 'b']);
    expect(sortIdeas(sorted, 'score', 'asc').map((i) => i.key)).toEqual(['a', 'b', 'c']);
  });
});
