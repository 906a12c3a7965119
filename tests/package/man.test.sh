#!/usr/bin/env bash
# man.test.sh - the man pages moat(1) and moat.json(5): both build, render
# without a groff warning, and say everything they must.
#
# - moat.json(5) names every key of moat.schema.json: every `properties`
#   and `patternProperties` member, nested, in $defs too, is looked for as a
#   key entry of the rendered page (a line of its own at the entry indent,
#   its text indented below). The key names are worked out here from each
#   member's place in the schema, not by the generator's code.
# - moat(1) names every command and subcommand `moat --help` lists and
#   every option each `moat COMMAND --help` prints, so an option added to
#   the binary without a line in the page fails here.
# - the example configs of moat.json(5) pass `moat check`, and the examples
#   of moat(1) run as written (paths moved into a scratch directory).
# - each checker is also run on a page with one key (one option) taken out,
#   and on a schema with one key added, and must fail there.
cd "$(dirname "$0")/../.."
. tests/package/lib.sh

build=
for b in build-test build; do
	if [ -f "$b/build.ninja" ]; then build=$b; break; fi
done
if [ -z "$build" ]; then
	bad "a build directory" "no build-test/ or build/: run meson setup first"
	finish
fi
if ! ninja -C "$build" moat moat.1 moat.json.5 >/dev/null 2>&1; then
	bad "ninja builds moat and the pages" "$(ninja -C "$build" moat.1 moat.json.5 2>&1 | tail -15)"
	finish
fi
moat=$PWD/$build/moat
t=$(mktemp -d /tmp/moat-man.XXXXXX)
trap 'rm -rf "$t"' EXIT

# render PAGE OUT: the page as man shows it at 80 columns; fails on any
# groff or man warning (stderr not empty).
render() {
	MANWIDTH=80 man --warnings -l "$1" >"$2" 2>"$2.err" && [ ! -s "$2.err" ]
}

for p in moat.1 moat.json.5; do
	if [ -s "$build/$p" ] && head -c 200 "$build/$p" | grep -q 'scdoc'; then ok "$p built by scdoc"; else bad "$p built" "missing or not scdoc output"; fi
	if render "$build/$p" "$t/$p.txt"; then
		ok "$p renders without warnings ($(wc -l <"$t/$p.txt") lines)"
	else
		bad "$p renders without warnings" "$(head -c 2000 "$t/$p.txt.err")"
	fi
done
# The warning check can fail: an unknown macro and character in a copy.
{ cat "$build/moat.1"; printf '.XYZ bad\n\\(zz\n'; } >"$t/warn.1"
if render "$t/warn.1" "$t/warn.txt"; then
	bad "the render check fails on a page groff warns about" "it passed"
else
	ok "the render check fails on a page groff warns about ($(wc -l <"$t/warn.txt.err") warnings)"
fi

# keys_missing SCHEMA TEXT: prints each key of SCHEMA with no entry in the
# rendered page TEXT; exits 1 when there is one.
keys_missing() {
	python3 - "$1" "$2" <<'EOF'
import json, re, sys
schema = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
# A key entry: the key at the entry indent (7), alone or before " (type)",
# and the next line indented further (the entry's text).
entries = set()
for i, l in enumerate(lines[:-1]):
    m = re.match(r"^ {7}(\S+)( \(.*)?$", l)
    if m and lines[i + 1].startswith(" " * 11):
        entries.add(m.group(1))

def name_of(path, prefixes):
    """The dotted config name of the member at JSON path (a list of keys)."""
    out, i = [], 0
    if path[:1] == ["$defs"]:
        return [p + rest for p in prefixes[path[1]] for rest in name_of(path[2:], None)]
    while i < len(path):
        k = path[i]
        if k == "properties":
            out.append("." + path[i + 1]); i += 2; continue
        if k in ("patternProperties",):
            out.append(".NAME"); i += 2; continue
        if k == "additionalProperties":
            out.append(".NAME")
        elif k == "items":
            out.append("[]")
        # allOf/anyOf/oneOf/if/then/else and their indexes add nothing
        i += 1
    return ["".join(out).lstrip(".")] if prefixes is not None else ["".join(out)]

refs = {}  # $defs name -> dotted names of the places that $ref it
def find_refs(node, path):
    if isinstance(node, dict):
        r = node.get("$ref", "")
        if r.startswith("#/$defs/") and path[:1] != ["$defs"]:
            refs.setdefault(r.split("/")[-1], []).append(name_of(path, {})[0])
        for k, v in node.items():
            find_refs(v, path + [k])
    elif isinstance(node, list):
        for i, v in enumerate(node):
            find_refs(v, path + [i])
find_refs(schema, [])

missing, total = [], 0
def walk(node, path):
    global total
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("properties", "patternProperties") and isinstance(v, dict):
                for member, sub in v.items():
                    total += 1
                    names = name_of(path + [k, member], refs)
                    if not any(n in entries for n in names):
                        missing.append(" or ".join(names))
                    walk(sub, path + [k, member])
            else:
                walk(v, path + [k])
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, path + [i])
walk(schema, [])
for m in missing:
    print("missing key:", m)
print("%d schema members checked, %d missing" % (total, len(missing)), file=sys.stderr)
sys.exit(1 if missing or total == 0 else 0)
EOF
}

if out=$(keys_missing moat.schema.json "$t/moat.json.5.txt" 2>&1); then
	ok "moat.json(5) has an entry for every key of moat.schema.json (${out##*$'\n'})"
else
	bad "moat.json(5) has an entry for every schema key" "$out"
fi
# The checker can fail: a page with one entry taken out, and a schema with a
# key the page does not know.
sed '/^\\fBlisten\.\\&drain_s\\fR/d' "$build/moat.json.5" >"$t/cut.5"
render "$t/cut.5" "$t/cut.txt"
if out=$(keys_missing moat.schema.json "$t/cut.txt" 2>&1); then
	bad "the key check fails on a page without listen.drain_s" "it passed"
elif grep -qx 'missing key: listen.drain_s' <<<"$out" && [ "$(grep -c '^missing key' <<<"$out")" = 1 ]; then
	ok "the key check fails on a page without listen.drain_s, naming it"
else
	bad "the key check names listen.drain_s" "$out"
fi
python3 -c '
import json, sys
s = json.load(open("moat.schema.json"))
s["properties"]["limits"]["properties"]["brand_new"] = {"type": "integer"}
s["$defs"]["api_tool"]["properties"]["also_new"] = {"type": "string"}
json.dump(s, open(sys.argv[1], "w"))' "$t/schema.json"
if out=$(keys_missing "$t/schema.json" "$t/moat.json.5.txt" 2>&1); then
	bad "the key check fails on a schema with keys the page lacks" "it passed"
elif grep -qx 'missing key: limits.brand_new' <<<"$out" &&
	grep -q '^missing key: .*http.apis.NAME.tools\[\].also_new' <<<"$out"; then
	ok "the key check fails on a schema with new keys (limits.brand_new, a \$defs key), naming them"
else
	bad "the key check names the new keys" "$out"
fi

# The example configs of moat.json(5), from the rendered page, pass moat
# check, their absolute paths moved under $t.
mkdir -p "$t/srv/site" "$t/srv/notes" "$t/srv/data" "$t/var/log/moat" "$t/etc/moat/tls" "$t/state"
git -C "$t/srv/site" init -q && git -C "$t/srv/site" -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("create table customer(id)"); c.execute("create table orders(id)"); c.commit()' "$t/srv/data/shop.db"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=moat.example.org \
	-keyout "$t/etc/moat/tls/key.pem" -out "$t/etc/moat/tls/cert.pem" >/dev/null 2>&1
python3 - "$t/moat.json.5.txt" "$t" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
sec, blocks, cur = None, [], None
for l in lines:
    if l and not l.startswith(" "):
        sec = l
    if sec != "EXAMPLE":
        continue
    if l == " " * 11 + "{":
        cur = [l]
    elif cur is not None:
        cur.append(l)
        if l == " " * 11 + "}":
            blocks.append("\n".join(cur)); cur = None
for i, b in enumerate(blocks):
    json.loads(b)
    for a in ("/srv/", "/var/log/moat/", "/etc/moat/"):
        b = b.replace('"' + a, '"' + sys.argv[2] + a)
    open("%s/example%d.json" % (sys.argv[2], i), "w").write(b)
EOF
n=$(ls "$t"/example*.json 2>/dev/null | wc -l)
if [ "$n" -ge 3 ]; then ok "moat.json(5) has $n example configs, each JSON"; else bad "moat.json(5) example configs" "found $n"; fi
for f in "$t"/example*.json; do
	[ -f "$f" ] || continue
	check "moat check accepts moat.json(5)'s $(basename "$f" .json)" env XDG_STATE_HOME="$t/state" \
		CRM_TOKEN=crm-token-for-the-test MOAT_TOKEN_ALICE="$(openssl rand -hex 32)" "$moat" check --config "$f"
done

# moat(1): every command, subcommand and option of the binary's help.
page1=$t/moat.1.txt
# Options broken after a hyphen at a line's end are joined again.
python3 -c 'import re, sys; print(re.sub(r"-\n +", "-", open(sys.argv[1]).read()))' "$page1" >"$t/moat.1.joined"
# options_missing PAGE_TEXT: each command and option the help names that the
# page does not; exits 1 when there is one.
options_missing() {
	local page=$1 cmds cmd sub subs helps missing=0 opt
	cmds=$("$moat" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p')
	[ -n "$cmds" ] || { echo "no commands in moat --help"; return 1; }
	helps=$("$moat" --help)
	for cmd in $cmds; do
		if ! grep -Eq "^ {7}$cmd( |\$)" "$page"; then echo "missing command: $cmd"; missing=1; fi
		helps+=$'\n'$("$moat" "$cmd" --help 2>&1)
		subs=$("$moat" "$cmd" --help 2>&1 | sed -n "s/^\(usage:\)\{0,1\} *moat $cmd \([a-z][a-z]*\).*/\2/p" | sort -u)
		for sub in $subs; do
			if ! grep -Eq "^ {7}$cmd ([a-z|]*\|)?$sub([| ]|\$)" "$page" && ! grep -Eq "^ {11}$sub\$" "$page"; then
				echo "missing subcommand: $cmd $sub"; missing=1
			fi
			helps+=$'\n'$("$moat" "$cmd" "$sub" --help 2>&1)
		done
	done
	for opt in $(grep -oE '(^|[^A-Za-z0-9-])--?[a-z][a-z-]*' <<<"$helps" | sed 's/^[^-]*//' | sort -u); do
		if ! grep -Eq -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" "$page"; then echo "missing option: $opt"; missing=1; fi
	done
	echo "options in the help: $(grep -oE '(^|[^A-Za-z0-9-])--?[a-z][a-z-]*' <<<"$helps" | sed 's/^[^-]*//' | sort -u | wc -l)" >&2
	return $missing
}
if out=$(options_missing "$t/moat.1.joined" 2>&1); then
	ok "moat(1) names every command, subcommand and option of the help (${out##*$'\n'})"
else
	bad "moat(1) names every command and option" "$out"
fi
sed 's/\\fB--utc\\fR//g; s/--utc//g' "$build/moat.1" >"$t/cut.1"
render "$t/cut.1" "$t/cut1.txt"
if out=$(options_missing "$t/cut1.txt" 2>&1); then
	bad "the option check fails on a page without --utc" "it passed"
elif grep -qx 'missing option: --utc' <<<"$out"; then
	ok "the option check fails on a page without --utc, naming it"
else
	bad "the option check names --utc" "$out"
fi
sed 's/^\\fBversion\\fR$/\\fBrelease\\fR/' "$build/moat.1" >"$t/cut2.1"
render "$t/cut2.1" "$t/cut2.txt"
python3 -c 'import re, sys; print(re.sub(r"-\n +", "-", open(sys.argv[1]).read()))' "$t/cut2.txt" >"$t/cut2.joined"
out=$(options_missing "$t/cut2.joined" 2>&1)
if grep -qx 'missing command: version' <<<"$out"; then
	ok "the command check fails on a page without the version command, naming it"
else
	bad "the command check names version" "$out"
fi

# moat(1)'s examples, as written, with the installed paths moved under $t:
# every line starting `moat ` in EXAMPLES but `moat serve` (which serves
# until its client leaves), continuation lines joined.
datadir=$(sed -n 's|^ *\(/.*\)/moat/moat.schema.json$|\1|p' "$page1" | head -1)
sysconfdir=$(sed -n 's|^ *\(/.*\)/moat/moat.json$|\1|p' "$page1" | head -1)
mkdir -p "$t/ex1/etc/moat" "$t/ex1/share/moat/welcome" "$t/ex1/state"
cp dist/welcome/README.md "$t/ex1/share/moat/welcome/"
# api.yaml: a small public API with an API key (CRM_API_KEY once imported as crm).
cat >"$t/ex1/api.yaml" <<'YAML'
openapi: 3.0.3
info: {title: CRM, version: "1.0"}
servers: [{url: "https://api.crm.example/v1"}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
security: [{key: []}]
paths:
  /contacts/{id}:
    get:
      operationId: get_contact
      summary: One contact
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: the contact}}
YAML
sed -e "s|@DATADIR@|$t/ex1/share|g" -e "s|@SYSCONFDIR@|$t/ex1/etc|g" dist/moat.json.in >"$t/ex1/etc/moat/moat.json"
python3 - "$page1" <<'EOF' >"$t/ex1/commands"
import sys
sec, cmd = None, ""
for l in open(sys.argv[1]).read().split("\n"):
    if l and not l.startswith(" "):
        sec = l
    if sec != "EXAMPLES" or not l.startswith(" " * 11):
        continue
    cmd += l.strip()
    if cmd.endswith("\\"):
        cmd = cmd[:-1]
        continue
    print(cmd)
    cmd = ""
EOF
nex=0
if [ -z "$datadir" ] || [ -z "$sysconfdir" ]; then bad "moat(1) names the installed paths" "FILES has no schema or config path"; fi
while IFS= read -r line; do
	case "$line" in *"moat serve"*) continue ;; esac
	line=${line//"$sysconfdir/moat/"/"$t/ex1/etc/moat/"}
	line=${line//"$datadir/moat/"/"$t/ex1/share/moat/"}
	nex=$((nex + 1))
	check "moat(1) example: ${line#"$t/ex1/"}" env -C "$t/ex1" PATH="$PWD/$build:$PATH" XDG_STATE_HOME="$t/ex1/state" \
		bash -c "$line"
done <"$t/ex1/commands"
if [ "$nex" -ge 8 ]; then ok "moat(1) has $nex examples run here"; else bad "moat(1) examples" "only $nex found"; fi

finish
