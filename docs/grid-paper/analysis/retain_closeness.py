#!/usr/bin/env python3
"""Is a retained item lost because it resembles the forget set?

For each level, every retained generation item gets a closeness to the forget set:
the highest word-set Jaccard of its reference against the forget set's references of
the same section. The table gives the mean closeness per level and the retain Gen
Score each method loses (vanilla minus unlearned, per item) in each quartile of it.

Usage: python3 retain_closeness.py GRID_DIR METHOD[,METHOD...] VANILLA_DIR
  GRID_DIR     a `medforget grid` output (its bench/ and eval/<method>-<level>/*.jsonl)
  VANILLA_DIR  holds vanilla-<level>/retain.jsonl, from
               `medforget eval --model GRID_DIR/models/vanilla --bench GRID_DIR/bench
                --level LEVEL --sets retain --out VANILLA_DIR/vanilla-LEVEL`
               (the grid's own vanilla evaluations keep per-item files only while
               their run directory does).
An analysis for docs/RESULTS.md, not part of the build; needs only Debian's python3.
"""
import json
import statistics as st
import sys


def load(path):
    return {(d := json.loads(line))['id']: d for line in open(path)}


def words(text):
    return set(text.lower().replace(',', ' ').replace('.', ' ').split())


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    run, methods, vandir = sys.argv[1], sys.argv[2].split(','), sys.argv[3]
    print('| level | mean closeness | method | retain Gen lost, by closeness quartile (lowest → highest) |')
    print('|---|---|---|---|')
    for level in ['institution', 'patient', 'study', 'section']:
        try:
            van = load(f'{vandir}/vanilla-{level}/retain.jsonl')
            forget = load(f'{run}/eval/{methods[0]}-{level}/forget.jsonl')
        except FileNotFoundError:
            continue
        forget_words = {}
        for d in forget.values():
            if d.get('task') == 'generation':
                forget_words.setdefault(d['section'], []).append(words(d['reference']))
        close = {}
        for i, d in van.items():
            if d.get('task') != 'generation':
                continue
            w = words(d['reference'])
            close[i] = max((len(w & f) / len(w | f) for f in forget_words.get(d['section'], [])), default=0.0)
        order = sorted(close, key=close.get)
        q = len(order) // 4
        quartiles = [order[k * q:(k + 1) * q if k < 3 else len(order)] for k in range(4)]
        first = True
        for m in methods:
            try:
                after = load(f'{run}/eval/{m}-{level}/retain.jsonl')
            except FileNotFoundError:
                continue
            lost = [st.mean(van[i]['gen_score'] - after[i]['gen_score'] for i in g) for g in quartiles]
            head = f"{level} | {st.mean(close.values()):.3f}" if first else ' | '
            print(f"| {head} | {m} | " + ' / '.join(f'{x:.1f}' for x in lost) + ' |')
            first = False


if __name__ == '__main__':
    main()
