#!/usr/bin/env python3
"""How the daemon's modules relate, checked from the source:

1. The layers: responder/ holds one folder per layer, in the order that
   responder/meson.build's rs_layers lists, bottom to top. A file of folder F
   includes only headers of F and of the folders before F (the build enforces
   the same through include paths); an include names a header, not a path.
2. The module include graph of responder/ has no cycle. A module is a header
   and the .c files named after it (s2s_out_dial.c, conn_flow.c and
   *_internal.h belong to s2s_out, conn, ...). Each strongly connected
   component (modules that include one another, directly or round about) is
   printed, and the test fails.
3. One prefix per module: every function a header declares starts with the
   module's name (conn_*, s2s_out_*, xmlstream_*, ...); a module's internal
   functions, shared by its files and declared in MODULE_internal.h, with
   MODULE__ (conn__cork), and no other function does (responder/ only).
4. Type names: every type a module's header defines is rs_NAME (an object
   the module makes and ends: rs_conn, rs_s2s_out) or MODULE_what (a value:
   conn_dir, config_limits, router_verdict_fn). The prefix is checked here;
   object or value is for the reader to judge.
5. File-local functions tell where they are in a backtrace: a handler is
   MODULE_on_EVENT (conn_on_read, not on_read), and no two files of the
   daemon's layers define static functions of the same name.

Usage: test_layers.py SOURCE_ROOT"""
import os
import re
import sys

root = sys.argv[1]
src = os.path.join(root, "responder")
failed = False


def fail(message):
    global failed
    failed = True
    print(message)


# ---- 1. the layers -------------------------------------------------------
meson = open(os.path.join(src, "meson.build")).read()
layers = re.findall(r"'([a-z]+)'", re.search(r"rs_layers = \[(.*?)\]", meson, re.S).group(1))
rank = {layer: i for i, layer in enumerate(layers)}

where = {}  # file name -> its folder ("" = responder/ itself)
for folder, dirs, names in os.walk(src):
    rel = os.path.relpath(folder, src)
    if rel == ".":
        for name in names:
            if name.endswith((".c", ".h")):
                fail("responder/%s: every source belongs to a layer's folder" % name)
        continue
    if rel.split(os.sep)[0] not in rank:
        fail("responder/%s: a folder rs_layers (responder/meson.build) does not list" % rel)
        continue
    for name in names:
        if name.endswith((".c", ".h")):
            if name in where:
                fail("responder/%s/%s: the name is taken in responder/%s" % (rel, name, where[name]))
            where[name] = rel
for layer in layers:
    if not os.path.isdir(os.path.join(src, layer)):
        fail("responder/meson.build lists %s, which is no folder of responder/" % layer)

includes = {}  # file name -> the responder headers it includes
for name, folder in sorted(where.items()):
    text = open(os.path.join(src, folder, name)).read()
    includes[name] = []
    for inc in re.findall(r'#include "([^"]+)"', text):
        if "/" in inc:
            fail("responder/%s/%s includes %s: name the header, not a path" % (folder, name, inc))
            continue
        if inc not in where:
            continue  # certs/, zones/ or a system header
        includes[name].append(inc)
        up = where[inc]
        if rank[up.split(os.sep)[0]] > rank[folder.split(os.sep)[0]]:
            fail("responder/%s/%s includes %s of responder/%s/, a layer above %s/"
                 % (folder, name, inc, up, folder))
print("%d layers, bottom to top: %s" % (len(layers), " ".join(layers)))

# ---- 2. no include cycle -------------------------------------------------
heads = {f[:-2] for f in where if f.endswith(".h") and not f.endswith("_internal.h")}


def module(f):
    stem = f[:-2]
    if stem.endswith("_internal"):
        stem = stem[:-len("_internal")]
    while stem and stem not in heads:
        stem = stem.rsplit("_", 1)[0] if "_" in stem else ""
    return stem or f[:-2]


graph = {}
for f in where:
    m = module(f)
    graph.setdefault(m, set())
    for inc in includes[f]:
        if module(inc) != m:
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
    fail("cycle among: " + " ".join(comp))
    for a in comp:
        print("   ", a, "->", " ".join(sorted(b for b in graph[a] if b in comp)))
print("%d modules, %d include edges, %d cycles"
      % (len(graph), sum(len(e) for e in graph.values()), len(cycles)))

# ---- 3. one prefix per module --------------------------------------------
declared = 0
headers = [(os.path.join("responder", folder), name) for name, folder in where.items()]
for d in ("certs", "zones"):
    headers += [(d, name) for name in os.listdir(os.path.join(root, d))]
for d, f in sorted(headers):
    if not f.endswith(".h"):
        continue
    m = f[:-2]
    internal = m.endswith("_internal")
    if internal:
        m = m[:-len("_internal")]
    text = re.sub(r"/\*.*?\*/", "", open(os.path.join(root, d, f)).read(), flags=re.S)
    for line in text.split("\n"):
        hit = re.match(r"^(?:static inline\s+)?[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\(", line)
        if not hit or line.startswith(("#", "typedef")) or "(*" in line:
            continue
        declared += 1
        name = hit.group(1)
        if not name.startswith(m + "_"):
            fail("%s/%s: %s does not start with %s_" % (d, f, name, m))
        elif d.startswith("responder") and internal != name.startswith(m + "__"):
            fail("%s/%s: %s: %s__ marks the internal functions, those of %s_internal.h alone"
                 % (d, f, name, m, m))
print("%d functions declared in headers" % declared)

# ---- 4. type names ------------------------------------------------------------
types = 0
for name, folder in sorted(where.items()):
    if not name.endswith(".h"):
        continue
    m = name[:-len("_internal.h")] if name.endswith("_internal.h") else name[:-2]
    text = re.sub(r"/\*.*?\*/", "", open(os.path.join(src, folder, name)).read(), flags=re.S)
    defined = set(re.findall(r"typedef[^;{]*?\b(\w+)\s*;", text))
    defined |= set(re.findall(r"typedef[^;{]*?\(\s*\*\s*(\w+)\s*\)", text))
    defined |= set(re.findall(r"^\}\s*(\w+)\s*;", text, re.M))
    defined |= set(re.findall(r"^(?:typedef\s+)?struct\s+(\w+)\s*\{", text, re.M))
    for t in sorted(defined):
        types += 1
        if not (t.startswith("rs_") or t == m or t.startswith(m + "_")):
            fail("responder/%s/%s: type %s is neither rs_NAME nor %s_NAME" % (folder, name, t, m))
print("%d types defined in headers" % types)

# ---- 5. file-local functions named for backtraces ---------------------------
statics = {}
for name, folder in sorted(where.items()):
    if not name.endswith(".c"):
        continue
    text = open(os.path.join(src, folder, name)).read()
    for fn in sorted(set(re.findall(r"^static [\w\s*]+?\b(\w+)\(", text, re.M))):
        if fn.startswith("on_"):
            fail("responder/%s/%s: handler %s is not named after its module (%s_%s)"
                 % (folder, name, fn, module(name), fn))
        if folder != "cli":
            statics.setdefault(fn, []).append("%s/%s" % (folder, name))
for fn, places in sorted(statics.items()):
    if len(places) > 1:
        fail("static %s in %s: one name, several files" % (fn, " and ".join(places)))
print("%d file-local functions" % len(statics))
sys.exit(1 if failed else 0)
