#!/usr/bin/env python3
"""How the daemon's modules relate, checked from the source:

1. The module include graph of responder/ has no cycle. A module is a header
   and the .c files named after it (s2s_out_dial.c, conn_flow.c and
   *_internal.h belong to s2s_out, conn, ...). Each strongly connected
   component (modules that include one another, directly or round about) is
   printed, and the test fails.
2. One prefix per module: every function a header declares starts with the
   module's name (conn_*, s2s_out_*, xmlstream_*, ...).

Usage: test_layers.py SOURCE_ROOT"""
import os
import re
import sys

root = sys.argv[1]
src = os.path.join(root, "responder")
failed = False

# ---- 1. no include cycle -------------------------------------------------
files = [f for f in os.listdir(src) if f.endswith((".c", ".h"))]
heads = {f[:-2] for f in files if f.endswith(".h") and not f.endswith("_internal.h")}


def module(f):
    stem = f[:-2]
    if stem.endswith("_internal"):
        stem = stem[:-len("_internal")]
    while stem and stem not in heads:
        stem = stem.rsplit("_", 1)[0] if "_" in stem else ""
    return stem or f[:-2]


graph = {}
for f in files:
    m = module(f)
    graph.setdefault(m, set())
    for inc in re.findall(r'#include "([a-z0-9_]+\.h)"', open(os.path.join(src, f)).read()):
        if inc in files and module(inc) != m:
            graph[m].add(module(inc))

index, low, stack, on_stack, cycles = {}, {}, [], set(), []


def connect(v, counter=[0]):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in graph[v]:
        if w not in index:
            connect(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            cycles.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        connect(v)
for comp in cycles:
    failed = True
    print("cycle among:", " ".join(comp))
    for a in comp:
        print("   ", a, "->", " ".join(sorted(b for b in graph[a] if b in comp)))
print("%d modules, %d include edges, %d cycles"
      % (len(graph), sum(len(e) for e in graph.values()), len(cycles)))

# ---- 2. one prefix per module ------------------------------------------------
declared = 0
for d in ("responder", "responder/cli", "certs", "zones"):
    for f in sorted(os.listdir(os.path.join(root, d))):
        if not f.endswith(".h"):
            continue
        m = f[:-2]
        if m.endswith("_internal"):
            m = m[:-len("_internal")]
        text = re.sub(r"/\*.*?\*/", "", open(os.path.join(root, d, f)).read(), flags=re.S)
        for line in text.split("\n"):
            hit = re.match(r"^(?:static inline\s+)?[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\(", line)
            if not hit or line.startswith(("#", "typedef")) or "(*" in line:
                continue
            declared += 1
            if not hit.group(1).startswith(m + "_"):
                failed = True
                print("%s/%s: %s does not start with %s_" % (d, f, hit.group(1), m))
print("%d functions declared in headers" % declared)
sys.exit(1 if failed else 0)
