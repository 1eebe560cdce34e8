#!/usr/bin/python3
"""test_setup.py -- what the documents tell a newcomer to type is what the
build needs, and the rows they name exist (issue 22).

- Every dependency() of every meson.build, through its pkg-config file and
  `dpkg -S`, is a Debian package; the compiler and build tools are too.
  README's first command, the install step of deploy/README.md and
  tests/run.sh's PACKAGES must each install all of them (on 85b991b the
  first command lacked libsqlite3-dev: `meson setup` failed on a fresh
  Debian 12).
- .ci/run keeps no package list of its own: it runs README's second
  command, which installs what the tests need.
- A row named in a document exists in the catalog: LABEL.BASE, test@ and
  echo@ addresses, and the backquoted names of a sentence about rows or
  profiles (deploy/README.md named `no-srv` and `srv-no-target`).
  Names that the sources use as strings (stream errors, log events) and
  test names are not rows.
Usage: test_setup.py SOURCE_ROOT XMPP-RESPONDER. Without dpkg (not Debian)
the packages are not checked, and it says so."""
import glob
import os
import re
import shutil
import subprocess
import sys

root, binary = sys.argv[1], sys.argv[2]
failed = 0


def check(desc, ok, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + desc + ("" if ok else ": " + detail))
    failed += not ok


def read(path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def owner(path):
    """The Debian package that ships path, without its architecture."""
    r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return r.stdout.split(":")[0].split(",")[0].strip()


alias = {}  # a tool's package: also installed by the package named after the tool


def build_packages():
    """{package: why} for the build: tools, then every dependency()."""
    need = {}
    for tool in ("meson", "ninja", "gcc", "pkg-config"):
        path = shutil.which(tool)
        pkg = owner(path) if path else None
        check("the build tool %s comes from a package" % tool, pkg is not None,
              "%s not found or not from a package" % tool)
        if pkg:
            # /usr/bin/pkg-config is pkgconf's; the package named after the
            # tool installs it too
            need[pkg] = tool
            alias[pkg] = tool
    names = set()
    for mb in glob.glob(os.path.join(root, "**", "meson.build"), recursive=True):
        if "/build" in os.path.relpath(mb, root).split(os.sep)[0]:
            continue
        names |= set(re.findall(r"dependency\(\s*'([^']+)'", open(mb).read()))
    names.discard("threads")     # the compiler's, not pkg-config's
    for name in sorted(names):
        r = subprocess.run(["pkg-config", "--variable=pcfiledir", name],
                           capture_output=True, text=True)
        pc = os.path.join(r.stdout.strip(), name + ".pc")
        pkg = owner(pc) if r.returncode == 0 else None
        check("dependency('%s') comes from a package" % name, pkg is not None,
              "no pkg-config file from a Debian package (%s)" % pc)
        if pkg:
            need[pkg] = "dependency('%s')" % name
    return need


def apt_list(text):
    """The packages of the first `apt-get install -y ...` in text (its line
    continuations included)."""
    m = re.search(r"apt-get install -y((?:\\\n|[^\n&])*)", text)
    if not m:
        return None
    return set(re.sub(r"\\\n", " ", m.group(1)).split())


def code_block(text, n):
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return blocks[n] if len(blocks) > n else ""


def test_packages():
    if not shutil.which("dpkg"):
        print("# no dpkg: which package ships what cannot be told here; not checked")
        return
    need = build_packages()
    readme = read("README.md")
    places = {
        "README's first command": apt_list(code_block(readme, 0)),
        "deploy/README.md's install step": apt_list(read("deploy/README.md")),
    }
    m = re.search(r"PACKAGES=\((.*?)\)", read("tests/run.sh"), re.S)
    places["tests/run.sh's PACKAGES"] = set(m.group(1).split()) if m else None
    for place, have in places.items():
        check("%s installs packages" % place, have is not None, "no apt-get install found")
        missing = sorted(p for p in need if have is not None and p not in have
                         and alias.get(p) not in have)
        check("%s installs every package the build needs" % place, not missing,
              ", ".join("%s (for %s)" % (p, need[p]) for p in missing))
    second = code_block(readme, 1).strip()
    check("README's second command is the test command", second == "bash tests/run.sh", second)
    ci = read(".ci/run")
    check(".ci/run keeps no package list of its own (it runs README's second command)",
          "apt-get install" not in ci and "README.md" in ci, ci[-300:])


def known_strings():
    """String literals of the sources and test names: stream errors, log
    events, SASL conditions, suites. A name among them is not a row."""
    known = set()
    for pattern in ("responder/**/*.c", "certs/*.c", "zones/*.c"):
        for src in glob.glob(os.path.join(root, pattern), recursive=True):
            for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', open(src).read()):
                known |= set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", literal))
    for mb in glob.glob(os.path.join(root, "tests", "**", "meson.build"), recursive=True):
        known |= set(re.findall(r"test\(\s*'([^']+)'", open(mb).read()))
    return known


def test_row_names():
    r = subprocess.run([binary, "catalog", "--format", "tsv"], capture_output=True, text=True)
    labels = {line.split("\t")[0] for line in r.stdout.splitlines()[1:]}
    check("the catalog lists its rows", r.returncode == 0 and len(labels) > 30, r.stderr)
    known = known_strings()
    docs = subprocess.run(["git", "-C", root, "ls-files", "*.md"], capture_output=True,
                          text=True).stdout.split()
    for doc in docs:
        text = read(doc)
        wrong = set()
        for m in re.finditer(r"(?<![\w.$-])([a-z0-9][a-z0-9-]*)\.\$?BASE\b", text):
            wrong.add(m.group(1))
        for m in re.finditer(r"(?<![\w.-])([a-z0-9]+(?:-[a-z0-9]+)+)\.responder\.example\b", text):
            wrong.add(m.group(1))
        for sentence in re.split(r"(?<=[.;:])\s", re.sub(r"\s+", " ", text)):
            if re.search(r"\b(rows?|profiles?)\b", sentence):
                wrong |= set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", sentence))
        wrong = sorted(w for w in wrong if w not in labels and w not in known)
        check("the rows %s names exist" % doc, not wrong, ", ".join(wrong))


test_row_names()
test_packages()
print("%d failed" % failed)
sys.exit(1 if failed else 0)
