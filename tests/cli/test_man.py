#!/usr/bin/python3
"""test_man.py -- the manual pages (responder/cli/man/) say what the program
does, so that an option, a command or a key cannot be added without them:

- xmpp-responder.8: every command `xmpp-responder --help` lists has an item
  in COMMANDS, and every option, subcommand and value word its own --help
  prints is in that item; every exit status a --help lists is in EXIT
  STATUS under the command; its list of grade rules in GRADES is what
  grades_mdoc makes of the table the grade is computed with (`--update`
  writes it in).
- xmpp-responder.conf.5: its list of limits is what limits_mdoc makes of
  the table the daemon reads them with (`--update` writes it in), and
  agrees with the limits `init` writes (key, default, range); every key
  `check` allows, at top level and in each group, has an item that gives
  its default or says it is required; `check` passes its example.
- `mandoc -T lint` finds nothing in either page, style included (but for
  what the machine's page database lacks), and `man -l` renders both
  without a message (each part skipped, and said so, when
  the tool is missing).
Usage: test_man.py SOURCE_ROOT XMPP-RESPONDER LIMITS_MDOC GRADES_MDOC [--update]"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

root, binary, limits_mdoc, grades_mdoc = sys.argv[1:5]
update = sys.argv[5:] == ["--update"]
man_dir = os.path.join(root, "responder", "cli", "man")
page8 = os.path.join(man_dir, "xmpp-responder.8")
page5 = os.path.join(man_dir, "xmpp-responder.conf.5")
failed = 0


def check(desc, ok, detail=""):
    global failed
    print(("ok - " if ok else "not ok - ") + desc + ("" if ok or not detail else ": " + detail))
    failed += not ok


def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


def section(lines, name):
    """The lines of section .Sh NAME."""
    out, inside = [], False
    for line in lines:
        if line.startswith(".Sh "):
            inside = line[4:].strip() == name
        elif inside:
            out.append(line)
    return out


def items(lines, names, macro):
    """{name: its lines} for each '.It MACRO name' among lines, up to the
    next such item of another name of names."""
    out, current = {}, None
    for line in lines:
        m = re.match(r"\.It %s (\S+)" % macro, line)
        if m and m.group(1) in names:
            current = m.group(1)
            out.setdefault(current, [])
        if current:
            out[current].append(line)
    return out


def mentions(block, macro, word):
    """Whether mdoc source block has 'MACRO word' (word as a whole)."""
    return re.search(r"\b%s %s(?![\w-])" % (macro, re.escape(word)), "\n".join(block)) is not None


# ---- xmpp-responder.8 against the --help texts ----------------------------

def help_text(*args):
    r = run(binary, *args, "--help")
    check("xmpp-responder %s exits 0" % " ".join(args + ("--help",)), r.returncode == 0, r.stderr)
    return r.stdout


def options(text):
    """The options a --help text offers: in its usage lines (before the
    first blank line) and at the start of its option lines."""
    usage = text.split("\n\n", 1)[0]
    found = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", usage))
    for line in text.splitlines():
        m = re.match(r"\s+(-\w)?(?:, )?(--[\w-]+)?", line)
        if m:
            found |= {o for o in m.groups() if o}
    return found


def check_page8():
    lines = open(page8, encoding="utf-8").read().splitlines()
    main = help_text()
    commands = re.findall(r"^  ([a-z]+) ", main.split("commands:", 1)[1], re.M)
    check("xmpp-responder --help lists commands", len(commands) >= 7, main)
    synopsis = section(lines, "SYNOPSIS")
    blocks = items(section(lines, "COMMANDS"), commands, "Cm")
    exits = items(section(lines, "EXIT STATUS"), commands, "Cm")
    for cmd in commands:
        check("xmpp-responder.8: %s in SYNOPSIS" % cmd, mentions(synopsis, "Cm", cmd))
        block = blocks.get(cmd)
        check("xmpp-responder.8: %s has an item in COMMANDS" % cmd, block is not None)
        check("xmpp-responder.8: %s has an item in EXIT STATUS" % cmd, cmd in exits)
        text = help_text(cmd)
        if block is None:
            continue
        offered = options(text)
        missing = sorted(o for o in offered if not mentions(block, "Fl", o[1:]))
        check("xmpp-responder.8: the %d options of %s --help are in its item"
              % (len(offered), cmd), offered and not missing, ", ".join(missing))
        usage = text.split("\n\n", 1)[0]
        subs = set(re.findall(r"xmpp-responder %s ([a-z]+)\b" % cmd, usage))
        missing = sorted(s for s in subs if not mentions(block, "Cm", s))
        check("xmpp-responder.8: every subcommand of %s is in its item" % cmd,
              not missing, ", ".join(missing))
        words = set()
        for alt in re.findall(r"(?<![\w-])([a-z0-9]+(?:\|[a-z0-9]+)+)(?![\w-])", text):
            words |= set(alt.split("|"))
        body = "\n".join(block)
        missing = sorted(w for w in words if not re.search(r"\b%s\b" % w, body))
        check("xmpp-responder.8: every value %s --help names is in its item (%s)"
              % (cmd, ", ".join(sorted(words)) or "none"), not missing, ", ".join(missing))
        m = re.search(r"exit status:(.*)", text, re.S)
        if m:
            codes = set(re.findall(r"(?:^|[:,])\s+(\d+)\s", " " + m.group(1)))
            have = set(re.findall(r"^\.It (\d+)$", "\n".join(exits.get(cmd, [])), re.M))
            check("xmpp-responder.8: EXIT STATUS of %s has %s" % (cmd, ", ".join(sorted(codes))),
                  codes and codes <= have, "the page has %s" % ", ".join(sorted(have)))


# ---- the generated parts of both pages --------------------------------------

def generated_block(text, mark):
    """(start, end) of the lines between the page's MARK:begin and MARK:end."""
    start, end = text.find(".\\\" %s:begin" % mark), text.find(".\\\" %s:end" % mark)
    if start < 0 or end < start:
        return None
    start = text.index("\n", start) + 1
    return start, end


def check_generated(text, page, mark, generator):
    """The part of page (its text) between the MARK marks is what generator
    prints; --update writes it in. Returns the text and that part."""
    name, what = os.path.basename(page), os.path.basename(generator)
    r = run(generator)
    check("%s runs" % what, r.returncode == 0 and r.stdout, r.stderr)
    span = generated_block(text, mark)
    check("%s has the marks %s:begin and %s:end" % (name, mark, mark), span is not None)
    if span is None or r.returncode != 0:
        return text, None
    if update:
        text = text[:span[0]] + r.stdout + text[span[1]:]
        with open(page, "w", encoding="utf-8") as f:
            f.write(text)
        print("# the %s part of %s is rewritten" % (mark, page))
        span = generated_block(text, mark)
    have = text[span[0]:span[1]]
    diff = "\n".join(sorted(set(r.stdout.splitlines()) ^ set(have.splitlines())))
    update_cmd = " ".join(os.path.abspath(a) for a in [sys.argv[0]] + sys.argv[1:5])
    check("%s says what %s prints between its %s marks "
          "(else: python3 %s --update)" % (name, what, mark, update_cmd),
          have == r.stdout, "lines that differ:\n" + diff)
    return text, have


# ---- xmpp-responder.conf.5 against the limit table and check ---------------

def check_limits(text, tmp):
    text, have = check_generated(text, page5, "limits", limits_mdoc)
    if have is None:
        return text
    # the same table as `init` renders it: key = default; # text (min..max)
    r = run(binary, "init", "-b", "responder.example", "-d", tmp)
    conf = open(os.path.join(tmp, "responder.conf")).read() if r.returncode == 0 else ""
    group = re.search(r"^limits = \{\n(.*?)^\};", conf, re.S | re.M)
    written = re.findall(r"^  (\w+) = (\d+);.*\((\d+)\.\.(\d+)\)$",
                         group.group(1) if group else "", re.M)
    check("init writes the limits (%d)" % len(written), len(written) > 30, r.stderr)
    listed = {}
    for item in have.split(".It Ic ")[1:]:
        key, _, body = item.partition("\n")
        listed[key] = " ".join(body.split())
    for key, default, low, high in written:
        m = re.search(r"\bDefault %s\b.*\bfrom %s\b.* to %s\b" % (default, low, high),
                      listed.get(key, ""))
        check("xmpp-responder.conf.5: %s, default %s, %s to %s" % (key, default, low, high),
              m is not None)
    # the page's example, in the directory init made
    example = re.search(r"^\.Sh EXAMPLES\n.*?^\.Bd -literal.*?\n(.*?)^\.Ed", text, re.S | re.M)
    path = os.path.join(tmp, "example.conf")
    with open(path, "w") as f:
        f.write(example.group(1).replace("\\e", "\\") if example else "")
    r = run(binary, "check", "-c", path)
    check("xmpp-responder.conf.5: check passes the example", example and r.returncode == 0,
          r.stdout + r.stderr)
    return text


PROBE_CONFIG = """base_domain = "responder.example";
zz_unknown = 1;
listen = ( { address = "127.0.0.1"; zz_unknown = 1; } );
http = { address = "127.0.0.1"; zz_unknown = 1; };
https = { address = "127.0.0.1"; zz_unknown = 1; };
outbound = { zz_unknown = 1; };
resolver = { zz_unknown = 1; };
domains = ( { name = "valid.responder.example"; profile = "valid"; zz_unknown = 1; } );
"""


def allowed_keys(tmp):
    """{group: keys} from check's complaints about an unknown key in each
    group (None: the top level)."""
    path = os.path.join(tmp, "keys.conf")
    with open(path, "w") as f:
        f.write(PROBE_CONFIG)
    r = run(binary, "check", "-c", path)
    groups = {}
    for where, allowed in re.findall(r"unknown setting 'zz_unknown' (.*?) \(allowed: (.*?)\)$",
                                     r.stderr, re.M):
        name = None if where == "at top level" else re.sub(r"^in | entry$", "", where)
        groups[name] = allowed.split(", ")
    check("check names the allowed keys of %d groups" % len(groups), len(groups) >= 7, r.stderr)
    return groups


def check_keys(text, tmp):
    lines = text.splitlines()
    desc = section(lines, "DESCRIPTION")
    groups = allowed_keys(tmp)
    top = groups.pop(None, [])
    blocks = items(desc, top, "Ic")
    for key in top:
        block = blocks.get(key)
        check("xmpp-responder.conf.5: %s has an item" % key, block is not None)
        if block and key != "limits":
            check("xmpp-responder.conf.5: %s gives its default or says it is required" % key,
                  re.search(r"default|required", "\n".join(block), re.I) is not None)
    for group, keys in groups.items():
        parent = group if group in blocks else group + "s"
        block = blocks.get(parent, [])
        check("xmpp-responder.conf.5: group %s is a top-level item" % parent, bool(block))
        nested = items(block[1:], keys, "Ic")
        for key in keys:
            own = nested.get(key)
            check("xmpp-responder.conf.5: %s.%s is in its group's item" % (parent, key),
                  mentions(block, "Ic", key))
            said = "\n".join(own if own else block)
            check("xmpp-responder.conf.5: %s.%s gives its default or says it is required"
                  % (parent, key), re.search(r"default|required", said, re.I) is not None)


# ---- both pages: mandoc -T lint, man -l ------------------------------------

def check_render():
    for page in (page8, page5):
        name = os.path.basename(page)
        if shutil.which("mandoc"):
            # what this machine's page database lacks is not the page's fault
            r = run("mandoc", "-T", "lint", "-W", "style", page)
            said = [m for m in (r.stdout + r.stderr).splitlines()
                    if "mandoc.db" not in m and "referenced manual not found" not in m]
            check("mandoc -T lint %s: nothing, style included" % name,
                  r.returncode in (0, 1) and not said, "\n".join(said))
        else:
            print("# mandoc not installed (apt-get install mandoc): %s not linted" % name)
        if shutil.which("man"):
            env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat")
            r = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env)
            check("man -l %s renders without a message" % name,
                  r.returncode == 0 and r.stdout.strip() and not r.stderr.strip(), r.stderr)
        else:
            print("# man not installed (apt-get install man-db): man -l %s not tried" % name)


with tempfile.TemporaryDirectory() as tmp:
    check_page8()
    check_generated(open(page8, encoding="utf-8").read(), page8, "grades", grades_mdoc)
    text = open(page5, encoding="utf-8").read()
    text = check_limits(text, os.path.join(tmp, "init"))
    check_keys(text, tmp)
    check_render()
print("%d failed" % failed)
sys.exit(1 if failed else 0)
