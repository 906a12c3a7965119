#!/usr/bin/env python3
"""man_config.py - turn a man page template into scdoc source (issue 16).

    man_config.py [--schema moat.schema.json] [--define NAME=VALUE]...
                  [--scdoc SCDOC] TEMPLATE OUTPUT

Run by meson before scdoc for both man pages. It does two things:

1. Replaces each @NAME@ given with --define (the install paths: @DATADIR@,
   @SYSCONFDIR@, @LIBDIR@, @BINDIR@), so the pages name the files where this
   build installs them.
2. With --schema (moat.json(5) only): replaces each line `@keys PREFIX` with
   one entry per config key of moat.schema.json whose dotted name is PREFIX
   or lies under it (the longest matching prefix wins), and `@rest` with any
   key no `@keys` line took. A key's name is its path in a config file:
   `limits.call_timeout_ms`, `databases.NAME.path` (NAME for a key of the
   user's choosing), `roots[].write` ([] for an element of an array). Each
   entry gives the type and bounds, "required" where the schema says so, the
   default where the schema has one, the schema's description, and the
   template's hand-written note for that key (`@note KEY`, the lines after it
   up to a blank line; a note for a key the schema does not have is an
   error, so a renamed key cannot leave a stale note behind).

3. With --scdoc: runs scdoc on the result and writes the man page itself,
   set without hyphenation (see roff()).

The key reference is therefore generated from the schema at every build and
cannot drift from it; tests/package/man.test.sh checks the rendered page
independently.
"""
import argparse
import json
import re
import subprocess
import sys

REF_PATTERN = r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$"


def die(msg):
    """Print msg as the script's error and stop the build."""
    print("man_config.py: " + msg, file=sys.stderr)
    sys.exit(1)


def esc(text):
    """Escape scdoc's inline markup (backslash, * and _) in schema text."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def js(value):
    """A JSON value as it would be written in the config."""
    return json.dumps(value, ensure_ascii=False)


def bounds(lo, hi, unit=""):
    """"A to B unit", "at most B unit", "at least A unit", or None."""
    u = " " + unit if unit else ""
    if lo is not None and hi is not None:
        return "%s to %s%s" % (lo, hi, u)
    if hi is not None:
        return "at most %s%s" % (hi, u)
    if lo is not None:
        return "at least %s%s" % (lo, u)
    return None


def type_summary(node, defs):
    """One line saying what values a schema node accepts: type, bounds, enum."""
    if "$ref" in node:
        return type_summary(defs[node["$ref"].split("/")[-1]], defs)
    if "const" in node:
        return js(node["const"]) + " only"
    if "enum" in node:
        return "one of " + ", ".join(js(e) for e in node["enum"])
    alts = node.get("oneOf") or node.get("anyOf")
    if alts and "type" not in node:
        return " or ".join(type_summary(a, defs) for a in alts)
    if "allOf" in node and "type" not in node:
        return type_summary(node["allOf"][0], defs)
    t = node.get("type")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "integer" or t == "number":
        b = bounds(node.get("minimum"), node.get("maximum"))
        return "%s, %s" % (t, b) if b else t
    if t is None and ("pattern" in node or "minLength" in node):
        t = "string"
    if t == "string":
        if node.get("pattern") == REF_PATTERN:
            return 'a "${NAME}" reference only'
        s = "string"
        lo, hi = node.get("minLength"), node.get("maxLength")
        b = bounds(lo, hi, "character" if hi is None and lo == 1 else "characters")
        if b:
            s += " of " + b
        if "pattern" in node:
            s += (", " if s != "string" else " ") + "matching " + node["pattern"]
        return s
    if t == "array":
        s = "array"
        items = node.get("items")
        if isinstance(items, dict):
            inner = type_summary(items, defs)
            if inner:
                s += " of " + (("(" + inner + ")") if " or " in inner else inner)
        b = bounds(node.get("minItems"), node.get("maxItems"), "items")
        return s + ", " + b if b else s
    if t == "object":
        s = "object"
        lo, hi = node.get("minProperties"), node.get("maxProperties")
        if hi is not None:
            s += ", %s to %s members" % (lo or 0, hi)
        names = node.get("propertyNames", {}).get("pattern")
        if names:
            s += ", names matching " + names
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not extra.get("properties"):
            s += ", each member " + type_summary(extra, defs)
        return s
    return t or "any JSON value"


class Keys:
    """Every config key of the schema, in schema order, by dotted name."""

    def __init__(self, schema):
        self.defs = schema.get("$defs", {})
        self.order = []        # dotted names
        self.nodes = {}        # name -> [property schemas]
        self.required = set()  # names the schema requires
        self.expanded = {}     # $defs name -> the dotted name it was first expanded at
        self.visit(schema, "")

    def add(self, name, node, required):
        if name not in self.nodes:
            self.order.append(name)
            self.nodes[name] = []
        self.nodes[name].append(node)
        if required:
            self.required.add(name)

    def visit(self, node, name):
        """Collect the keys of the value `name` that `node` describes."""
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if ref:
            d = ref.split("/")[-1]
            if d not in self.expanded:  # a shared definition is listed once
                self.expanded[d] = name
                self.visit(self.defs[d], name)
        for comb in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(comb, []):
                self.visit(sub, name)
        req = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            child = name + "." + key if name else key
            self.add(child, sub, key in req)
            self.visit(sub, child)
        for sub in node.get("patternProperties", {}).values():
            self.add(name + ".NAME", sub, False)
            self.visit(sub, name + ".NAME")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            self.visit(extra, name + ".NAME")
        items = node.get("items")
        if isinstance(items, dict):
            self.visit(items, name + "[]")

    def entry(self, name, note):
        """scdoc text of one key's entry."""
        nodes = self.nodes[name]
        merged = {}
        for n in nodes:  # a key written twice (allOf) has both sets of bounds
            merged.update(n)
        summary = type_summary(merged, self.defs)
        head = "*" + esc(name) + "*"
        body = []
        if len(name) + len(summary) + 3 <= 66:
            head += " (" + esc(summary) + ")"
        else:
            body.append("Type: " + esc(summary) + ".")
        if name in self.required:
            body.append("Required.")
        descs = []
        for n in nodes:
            d = n.get("description")
            if d and d not in descs:
                descs.append(d)
        body += [esc(d) for d in descs]
        text = " ".join(body)
        lines = [head]
        if text:
            lines.append("\t" + text)
        for line in note:
            lines.append("\t" + line)
        default = next((n["default"] for n in nodes if "default" in n), None)
        if default is not None and not any("default" in d.lower() for d in descs):
            lines.append("\tDefault: " + esc(js(default)) + ".")
        if len(lines) == 1:
            die("key %s has neither a description in the schema nor a note" % name)
        return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema")
    ap.add_argument("--define", action="append", default=[])
    ap.add_argument("--scdoc", help="run this scdoc on the result and write the man page")
    ap.add_argument("template")
    ap.add_argument("output")
    args = ap.parse_args()

    with open(args.template, encoding="utf-8") as f:
        text = f.read()
    for d in args.define:
        k, _, v = d.partition("=")
        text = text.replace("@" + k + "@", v)

    lines = text.split("\n")
    if args.schema:
        with open(args.schema, encoding="utf-8") as f:
            keys = Keys(json.load(f))
        lines = expand(lines, keys)
    text = "\n".join(lines)
    if args.scdoc:
        text = roff(args.scdoc, text)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)


def roff(scdoc, text):
    """The page scdoc makes of text, set ragged-right without hyphenation.

    groff's man macros turn hyphenation back on at .TH, which breaks key
    names (limits.call_time-out_ms) where a reader, or grep, looks for them
    whole; .nh and .ad l after .TH keep every word in one piece."""
    res = subprocess.run([scdoc], input=text, capture_output=True, text=True)
    if res.returncode != 0:
        die("scdoc: " + res.stderr.strip())
    out, done = [], False
    for line in res.stdout.split("\n"):
        out.append(line)
        if not done and line.startswith(".TH "):
            out += [".nh", ".ad l"]
            done = True
    if not done:
        die("scdoc's output has no .TH line")
    return "\n".join(out)


def expand(lines, keys):
    """The template's lines with @note blocks taken out and @keys/@rest filled."""
    notes, kept, i = {}, [], 0
    while i < len(lines):
        m = re.match(r"^@note (\S+)$", lines[i])
        if m:
            name, body = m.group(1), []
            i += 1
            while i < len(lines) and lines[i].strip():
                body.append(lines[i].strip())
                i += 1
            if name not in keys.nodes:
                die("@note %s: the schema has no such key" % name)
            if name in notes:
                die("@note %s given twice" % name)
            notes[name] = body
            continue
        kept.append(lines[i])
        i += 1

    prefixes = [m.group(1) for m in (re.match(r"^@keys (\S+)$", l) for l in kept) if m]
    owner = {}
    for name in keys.order:
        best = None
        for p in prefixes:
            if name == p or name.startswith(p + ".") or name.startswith(p + "["):
                if best is None or len(p) > len(best):
                    best = p
        owner[name] = best
    for p in prefixes:
        if p not in owner.values():
            die("@keys %s: no key of the schema lies under it" % p)
    rest = [n for n in keys.order if owner[n] is None]
    if rest and "@rest" not in kept:
        die("keys no @keys line takes, and no @rest: " + ", ".join(rest))

    out = []
    for line in kept:
        m = re.match(r"^@keys (\S+)$", line)
        if m:
            names = [n for n in keys.order if owner[n] == m.group(1)]
            out.append("\n".join(keys.entry(n, notes.get(n, [])) for n in names).rstrip("\n"))
        elif line == "@rest":
            if rest:
                print("man_config.py: warning: keys without a section of their own: "
                      + ", ".join(rest), file=sys.stderr)
                out.append("# OTHER KEYS\n\nKeys the page has no section for yet.\n")
                out.append("\n".join(keys.entry(n, notes.get(n, [])) for n in rest).rstrip("\n"))
        else:
            out.append(line)
    return out


if __name__ == "__main__":
    main()
