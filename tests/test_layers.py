#!/usr/bin/env python3
"""The module include graph of responder/ has no cycle: prints each strongly
connected component (a set of modules that include one another, directly or
round about) and fails when there is one. A module is a header and the .c
files named after it (s2s_out_dial.c, conn_flow.c, *_internal.h belong to
s2s_out, conn, ...)."""
import os, re, sys
src = sys.argv[1]
files = [f for f in os.listdir(src) if f.endswith(('.c', '.h'))]
heads = {f[:-2] for f in files if f.endswith('.h') and not f.endswith('_internal.h')}
def module(f):
    stem = f[:-2]
    if stem.endswith('_internal'): stem = stem[:-9]
    while stem and stem not in heads:
        stem = stem.rsplit('_', 1)[0] if '_' in stem else ''
    return stem or f[:-2]
g = {}
for f in files:
    m = module(f)
    for inc in re.findall(r'#include "([a-z0-9_]+\.h)"', open(os.path.join(src, f)).read()):
        if inc in files:
            n = module(inc)
            if n != m: g.setdefault(m, set()).add(n)
    g.setdefault(m, set())
# Tarjan
index, low, st, on, out = {}, {}, [], set(), []
def sc(v, c=[0]):
    index[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in g[v]:
        if w not in index: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(g):
    if v not in index: sc(v)
for comp in out:
    print("cycle among:", " ".join(comp))
    for a in comp:
        print("   ", a, "->", " ".join(sorted(b for b in g[a] if b in comp)))
sys.exit(1 if out else 0)
