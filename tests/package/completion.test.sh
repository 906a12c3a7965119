#!/usr/bin/env bash
# completion.test.sh - the shell completions in dist/completions/ run for
# real: bash (with bash-completion loaded, and plain), fish (complete -C)
# and zsh (compinit in a pseudo-terminal, tests/package/completion/
# zsh_capture.zsh). Each completes the commands, serve's options, the
# --log-level values, directories for serve's DIRs, files for --config,
# audit and import, and `moat call <TAB>` with the tool names of the demo
# config (examples/moat.json, its roots relative to it, named by a
# relative path from another directory; and through MOAT_CONFIG). The
# completions run only `moat tools --config FILE --names` (a logging
# wrapper records every moat they start), give up after 3 s on a moat
# that hangs, and print nothing to stderr for a bad config.
# Drift: every command `moat --help` lists and every option `moat CMD
# --help` prints must be offered by each shell after `moat CMD -`, so an
# option added without its completion fails here.
#
# The moat under test: $MOAT_BIN, else build-test/moat, else build/moat;
# its directory goes first in PATH (the scripts call `moat` from PATH).
cd "$(dirname "$0")/../.." || exit 1
. tests/package/lib.sh
repo=$PWD
comp=$repo/dist/completions

bin=${MOAT_BIN:-}
[ -n "$bin" ] || for b in build-test/moat build/moat; do [ -x "$b" ] && bin=$b && break; done
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	bad "a moat binary" "none: build first (ninja -C build-test) or set MOAT_BIN"
	finish
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for tool in bash fish zsh timeout jq; do
	command -v $tool >/dev/null || bad "$tool installed" "missing (scripts/install-deps.sh)"
done
bc=/usr/share/bash-completion/bash_completion
[ -r $bc ] || bad "bash-completion installed" "no $bc"

d=$(mktemp -d /tmp/moat-completion.XXXXXX)
trap 'rm -rf "$d"' EXIT
# Every moat the completions start goes through this wrapper, which logs
# its arguments: the only run allowed is `tools --config FILE --names`.
mkdir -p "$d/bin" "$d/slow" "$d/examples" "$d/work/dirA" "$d/work/dirB"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n' "$d/moat-runs.log" "$bin" >"$d/bin/moat"
printf '#!/bin/sh\nexec sleep 20\n' >"$d/slow/moat"
chmod +x "$d/bin/moat" "$d/slow/moat"
PATH="$d/bin:$(dirname "$bin"):$PATH"
export PATH
unset MOAT_CONFIG MOAT_LOG_LEVEL MOAT_LOG_FORMAT MOAT_HTTP
touch "$d/work/dfile" "$d/work/other"

# The demo config, examples/moat.json, as it is but for its database (the
# build's demo.db) and its git repository (this checkout): paths that are
# relative to the config in the repository. Its root "." stays relative:
# moat resolves it against the config's directory, wherever we stand.
db=$(dirname "$bin")/demo.db
if [ ! -f "$db" ]; then
	db=$d/demo.db
	sqlite3 "$db" <examples/demo.sql || bad "the demo database" "sqlite3 failed"
fi
jq --arg db "$db" --arg repo "$repo" '.databases.shop.path = $db | .git.repositories[0].path = $repo' \
	examples/moat.json >"$d/examples/moat.json"
echo '{"roots": 5}' >"$d/bad.json"
cfg=../examples/moat.json # from $d/work, where every completion runs
cd "$d/work" || exit 1
want_tools=$(moat tools --config "$cfg" --json 2>"$d/tools.err" | jq -r '.[].name' | sort)
ntools=$(printf '%s\n' "$want_tools" | grep -c .)
if [ "$ntools" -ge 20 ] && grep -qx crm_get_contact <<<"$want_tools" && grep -qx git_log <<<"$want_tools" &&
	grep -qx read_query <<<"$want_tools" && grep -qx read_text_file <<<"$want_tools"; then
	ok "the demo config lists $ntools tools (fs, sql, http, git)"
else
	bad "the demo config's tools" "$ntools: $want_tools $(cat "$d/tools.err")"
fi

# ---- the drift oracle: what moat's help prints ---------------------------
# opts: the options in a help text (backquoted examples left out).
# shellcheck disable=SC2016 # the backquotes are sed's, not the shell's
opts() { sed 's/`[^`]*`//g' | grep -oE -- '(^|[^a-zA-Z0-9-])--?[a-z][a-z0-9-]*' |
	grep -oE -- '--?[a-z][a-z0-9-]*' | grep -vE '^-[a-z][a-z]' | sort -u; }
cmds=$( (moat --help | awk '/^commands:/ {f = 1; next} f && /^$/ {exit} f && /^  [a-z]/ {print $1}'; echo help) | sort -u)
common=$(moat --help | awk '/^common options:/ {f = 1; next} f && /^$/ {exit} f' | opts)
declare -A want_opts
for c in serve check tools call; do want_opts[$c]=$( (moat $c --help | opts; echo "$common") | sort -u); done
want_opts[import openapi]=$(moat import --help | opts)
audit_help=$(moat audit --help)
filters=$(awk '/^filters/ {f = 1} f && /^$/ {exit} f' <<<"$audit_help" | opts)
want_opts[audit verify]=$(awk '/moat audit verify/ {print; exit}' <<<"$audit_help" | opts)
want_opts[audit tail]=$( (awk '/moat audit tail/ {print; exit}' <<<"$audit_help" | opts; echo "$filters") | sort -u)
want_opts[audit summary]=$( (awk '/moat audit summary/ {f = 1} f && !/moat audit summary/ && /moat audit/ {exit} f && /^$/ {exit} f' <<<"$audit_help" | opts; echo "$filters") | sort -u)
all_audit=$(opts <<<"$audit_help")
if [ "$(grep -c . <<<"$cmds")" -ge 8 ] && grep -qx -- --http <<<"${want_opts[serve]}" &&
	grep -qx -- --names <<<"${want_opts[tools]}" && grep -qx -- --top <<<"${want_opts[audit summary]}" &&
	grep -qx -- --output-schemas <<<"${want_opts[import openapi]}" && grep -qx -- -c <<<"$common"; then
	ok "the help texts give $(grep -c . <<<"$cmds") commands and every command's options"
else
	bad "the drift oracle" "cmds: $cmds / serve: ${want_opts[serve]}"
fi

: >"$d/moat-runs.log" # from here on, only the completions run moat

# ---- comparisons ----------------------------------------------------------
norm() { sed 's:/$::' | grep . | sort -u; } # one candidate a line, dirs without /
# same NAME GOT WANT: the candidate sets are equal.
same() {
	local g w
	g=$(norm <<<"$2")
	w=$(norm <<<"$3")
	if [ "$g" = "$w" ]; then ok "$1"; else bad "$1" "got [$(tr '\n' ' ' <<<"$g")] want [$(tr '\n' ' ' <<<"$w")]"; fi
}
# has NAME GOT WANT: every line of WANT is a candidate.
has() {
	local missing
	missing=$(comm -13 <(norm <<<"$2") <(norm <<<"$3"))
	if [ -z "$missing" ]; then ok "$1"; else bad "$1" "missing: $(tr '\n' ' ' <<<"$missing")"; fi
}
none() { if [ -z "$(norm <<<"$2")" ]; then ok "$1"; else bad "$1" "offered: $(tr '\n' ' ' <<<"$2")"; fi; }
levels=$(printf '%s\n' debug info notice warning error critical alert emergency)
git_l=$(printf '%s\n' git_log git_ls_files)

# ---- bash -----------------------------------------------------------------
# bcomp MODE WORD...: complete the last WORD (COMP_WORDS as bash splits the
# line: "--opt=v" is --opt, =, v) with bash-completion loaded (MODE bc) or
# without (plain); prints COMPREPLY, one a line; stderr kept in bash.err.
bcomp() {
	bash --norc --noprofile -c '
		mode=$1 comp=$2 bc=$3
		shift 3
		[ "$mode" = bc ] && . "$bc"
		. "$comp/moat.bash"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE=
		for w in "$@"; do
			if [ "$w" = = ] || [ "${COMP_LINE: -1}" = = ]; then COMP_LINE+=$w; else COMP_LINE+="${COMP_LINE:+ }$w"; fi
		done
		COMP_POINT=${#COMP_LINE}
		_moat moat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bcomp "$1" "$comp" "$bc" "${@:2}" 2>>"$d/bash.err"
}
for m in bc plain; do
	same "bash/$m: moat <TAB> gives the commands" "$(bcomp $m moat '')" "$cmds"
	same "bash/$m: moat s<TAB> gives serve" "$(bcomp $m moat s)" serve
	same "bash/$m: moat serve --log-level <TAB> gives the levels" "$(bcomp $m moat serve --log-level '')" "$levels"
	same "bash/$m: moat serve --log-level=w<TAB>" "$(bcomp $m moat serve --log-level = w)" warning
	same "bash/$m: moat check --log-format <TAB>" "$(bcomp $m moat check --log-format '')" "$(printf 'text\njson')"
	same "bash/$m: moat serve d<TAB> gives directories only" "$(bcomp $m moat serve d)" "$(printf 'dirA\ndirB')"
	same "bash/$m: moat serve --config d<TAB> gives files" "$(bcomp $m moat serve --config d)" "$(printf 'dirA\ndirB\ndfile')"
	same "bash/$m: moat call --config CFG <TAB> gives the config's tools" \
		"$(bcomp $m moat call --config "$cfg" '')" "$want_tools"
	same "bash/$m: moat call --config=CFG --log-level info git_l<TAB>" \
		"$(bcomp $m moat call --config = "$cfg" --log-level info git_l)" "$git_l"
	same "bash/$m: moat call -c CFG git_l<TAB>" "$(bcomp $m moat call -c "$cfg" git_l)" "$git_l"
	same "bash/$m: MOAT_CONFIG=CFG moat call <TAB>" "$(MOAT_CONFIG=$cfg bcomp $m moat call '')" "$want_tools"
	none "bash/$m: no tool names after the TOOL" "$(bcomp $m moat call --config "$cfg" git_log '')"
	none "bash/$m: no tool names for a bad config" "$(bcomp $m moat call --config ../bad.json '')"
	none "bash/$m: no tool names for a missing config" "$(bcomp $m moat call --config ../absent.json '')"
	same "bash/$m: moat audit <TAB>" "$(bcomp $m moat audit '')" "$(printf 'verify\ntail\nsummary')"
	has "bash/$m: moat audit tail --outcome <TAB>" "$(bcomp $m moat audit tail --outcome '')" "$(printf 'ok\ndenied\nlimit')"
	same "bash/$m: moat audit summary -c CFG --tool git_l<TAB>" "$(bcomp $m moat audit summary -c "$cfg" --tool git_l)" "$git_l"
	same "bash/$m: moat import <TAB>" "$(bcomp $m moat import '')" openapi
	same "bash/$m: moat import openapi --output d<TAB> gives files" "$(bcomp $m moat import openapi --output d)" "$(printf 'dirA\ndirB\ndfile')"
	same "bash/$m: moat import openapi d<TAB> (SPEC) gives files" "$(bcomp $m moat import openapi d)" "$(printf 'dirA\ndirB\ndfile')"
	has "bash/$m: moat --<TAB>" "$(bcomp $m moat --)" "$(printf -- '--help\n--version')"
done
# Drift, with bash-completion (the installed setup).
has "bash: moat <TAB> offers every command of moat --help" "$(bcomp bc moat '')" "$cmds"
for k in serve check tools call "audit verify" "audit tail" "audit summary" "import openapi"; do
	# shellcheck disable=SC2086 # $k is two words for audit and import
	has "bash: moat $k -<TAB> offers every option of its --help" "$(bcomp bc moat $k -)" "${want_opts[$k]}"
done
has "bash: the audit subcommands together offer every option of moat audit --help" \
	"$(for s in verify tail summary; do bcomp bc moat audit $s -; done)" "$all_audit"
if [ -s "$d/bash.err" ]; then bad "bash: nothing on stderr" "$(head -5 "$d/bash.err")"; else ok "bash: nothing on stderr"; fi

# ---- fish -----------------------------------------------------------------
# fcomp LINE: complete LINE in fish; candidates one a line, no descriptions.
fcomp() {
	# shellcheck disable=SC2016 # $argv is fish's
	fish -N -c 'source $argv[1]; complete -C $argv[2]' "$comp/moat.fish" "$1" 2>>"$d/fish.err" | cut -f1
}
same "fish: moat <TAB> gives the commands" "$(fcomp 'moat ')" "$cmds"
same "fish: moat se<TAB> gives serve" "$(fcomp 'moat se')" serve
same "fish: moat serve --log-level <TAB> gives the levels" "$(fcomp 'moat serve --log-level ')" "$levels"
same "fish: moat serve --log-level=w<TAB>" "$(fcomp 'moat serve --log-level=w' | sed 's/^--log-level=//')" warning
same "fish: moat serve d<TAB> gives directories only" "$(fcomp 'moat serve d')" "$(printf 'dirA\ndirB')"
same "fish: moat serve --config d<TAB> gives files" "$(fcomp 'moat serve --config d')" "$(printf 'dirA\ndirB\ndfile')"
same "fish: moat call --config CFG <TAB> gives the config's tools" "$(fcomp "moat call --config $cfg ")" "$want_tools"
same "fish: moat call --config=CFG --log-level info git_l<TAB>" "$(fcomp "moat call --config=$cfg --log-level info git_l")" "$git_l"
same "fish: MOAT_CONFIG=CFG moat call <TAB>" "$(MOAT_CONFIG=$cfg fcomp 'moat call ')" "$want_tools"
none "fish: no tool names after the TOOL" "$(fcomp "moat call --config $cfg git_log ")"
none "fish: no tool names for a bad config" "$(fcomp 'moat call --config ../bad.json ')"
same "fish: moat audit <TAB>" "$(fcomp 'moat audit ')" "$(printf 'verify\ntail\nsummary')"
has "fish: moat audit tail --outcome <TAB>" "$(fcomp 'moat audit tail --outcome ')" "$(printf 'ok\ndenied\nlimit')"
same "fish: moat audit summary -c CFG --tool git_l<TAB>" "$(fcomp "moat audit summary -c $cfg --tool git_l")" "$git_l"
same "fish: moat import <TAB>" "$(fcomp 'moat import ')" openapi
same "fish: moat import openapi --output d<TAB> gives files" "$(fcomp 'moat import openapi --output d')" "$(printf 'dirA\ndirB\ndfile')"
for k in serve check tools call "audit verify" "audit tail" "audit summary" "import openapi"; do
	has "fish: moat $k -<TAB> offers every option of its --help" "$(fcomp "moat $k -")" "${want_opts[$k]}"
done
has "fish: the audit subcommands together offer every option of moat audit --help" \
	"$(for s in verify tail summary; do fcomp "moat audit $s -"; done)" "$all_audit"
if [ -s "$d/fish.err" ]; then bad "fish: nothing on stderr" "$(head -5 "$d/fish.err")"; else ok "fish: nothing on stderr"; fi

# ---- zsh ------------------------------------------------------------------
check "zsh: _moat parses (zsh -n)" zsh -n "$comp/_moat"
zlines=('moat ' 'moat s' 'moat serve --log-level ' 'moat serve --log-level=w' 'moat serve d' 'moat serve --config d'
	"moat call --config $cfg " "moat call --config=$cfg --log-level info git_l" 'moat call '
	"moat call --config $cfg git_log " 'moat call --config ../bad.json ' 'moat audit '
	'moat audit tail --outcome ' "moat audit summary -c $cfg --tool git_l" 'moat import '
	'moat import openapi --output d' 'moat --')
for k in serve check tools call "audit verify" "audit tail" "audit summary" "import openapi"; do zlines+=("moat $k -"); done
# One shell for every line (compinit takes a second); 30 s at most.
MOAT_CONFIG='' timeout 30 zsh -f "$repo/tests/package/completion/zsh_capture.zsh" "$comp" "${zlines[@]}" \
	>"$d/zsh.out" 2>"$d/zsh.err"
zrc=$?
MOAT_CONFIG=$cfg timeout 30 zsh -f "$repo/tests/package/completion/zsh_capture.zsh" "$comp" 'moat call ' \
	>"$d/zsh-env.out" 2>>"$d/zsh.err"
if [ $zrc -eq 0 ] && [ "$(grep -c '^== ' "$d/zsh.out")" -eq ${#zlines[@]} ]; then
	ok "zsh: compinit in a pty completed ${#zlines[@]} lines"
else
	bad "zsh: the completion run" "exit $zrc, $(grep -c '^== ' "$d/zsh.out") of ${#zlines[@]} lines; $(head -5 "$d/zsh.err")"
fi
zres() { awk -v l="== $1" '$0 == l {f = 1; next} /^== / {f = 0} f' "${2:-$d/zsh.out}"; }
same "zsh: moat <TAB> gives the commands" "$(zres 'moat ')" "$cmds"
same "zsh: moat s<TAB> gives serve" "$(zres 'moat s')" serve
same "zsh: moat serve --log-level <TAB> gives the levels" "$(zres 'moat serve --log-level ')" "$levels"
same "zsh: moat serve --log-level=w<TAB>" "$(zres 'moat serve --log-level=w')" warning
same "zsh: moat serve d<TAB> gives directories only" "$(zres 'moat serve d')" "$(printf 'dirA\ndirB')"
same "zsh: moat serve --config d<TAB> gives files" "$(zres 'moat serve --config d')" "$(printf 'dirA\ndirB\ndfile')"
same "zsh: moat call --config CFG <TAB> gives the config's tools" "$(zres "moat call --config $cfg ")" "$want_tools"
same "zsh: moat call --config=CFG --log-level info git_l<TAB>" "$(zres "moat call --config=$cfg --log-level info git_l")" "$git_l"
none "zsh: moat call <TAB> without a config offers no tools" "$(zres 'moat call ')"
same "zsh: MOAT_CONFIG=CFG moat call <TAB>" "$(zres 'moat call ' "$d/zsh-env.out")" "$want_tools"
none "zsh: no tool names after the TOOL" "$(zres "moat call --config $cfg git_log ")"
none "zsh: no tool names for a bad config" "$(zres 'moat call --config ../bad.json ')"
same "zsh: moat audit <TAB>" "$(zres 'moat audit ')" "$(printf 'verify\ntail\nsummary')"
has "zsh: moat audit tail --outcome <TAB>" "$(zres 'moat audit tail --outcome ')" "$(printf 'ok\ndenied\nlimit')"
same "zsh: moat audit summary -c CFG --tool git_l<TAB>" "$(zres "moat audit summary -c $cfg --tool git_l")" "$git_l"
same "zsh: moat import <TAB>" "$(zres 'moat import ')" openapi
same "zsh: moat import openapi --output d<TAB> gives files" "$(zres 'moat import openapi --output d')" "$(printf 'dirA\ndirB\ndfile')"
has "zsh: moat --<TAB>" "$(zres 'moat --')" "$(printf -- '--help\n--version')"
for k in serve check tools call "audit verify" "audit tail" "audit summary" "import openapi"; do
	has "zsh: moat $k -<TAB> offers every option of its --help" "$(zres "moat $k -")" "${want_opts[$k]}"
done
has "zsh: the audit subcommands together offer every option of moat audit --help" \
	"$(for s in verify tail summary; do zres "moat audit $s -"; done)" "$all_audit"

# ---- what the completions ran ---------------------------------------------
runs=$(sort -u "$d/moat-runs.log")
others=$(grep -vE '^tools --config [^ ]+ --names$' <<<"$runs" | grep .)
if [ -n "$runs" ] && [ -z "$others" ]; then
	ok "the completions ran moat only as 'tools --config FILE --names' ($(grep -c . "$d/moat-runs.log") runs)"
else
	bad "the completions ran only moat tools --names" "runs: $(head -5 <<<"$runs")"
fi
if grep -q "bad.json" <<<"$runs" && ! grep -q "absent.json" <<<"$runs"; then
	ok "a config that is not there is not even tried"
else
	bad "a missing config is not tried" "$runs"
fi
# A moat that hangs: each shell gives up after timeout 3, offering nothing.
# The three run side by side (3 s each); each writes "SECONDS" and then
# what it offered to its own file.
PATH="$d/slow:$PATH"
hang() { # hang SHELL
	local start=$SECONDS got
	case $1 in
	bash) got=$(bcomp bc moat call --config "$cfg" '') ;;
	fish) got=$(fcomp "moat call --config $cfg ") ;;
	zsh)
		MOAT_CONFIG='' timeout 30 zsh -f "$repo/tests/package/completion/zsh_capture.zsh" "$comp" \
			"moat call --config $cfg " >"$d/zsh-slow.out" 2>>"$d/zsh.err"
		got=$(zres "moat call --config $cfg " "$d/zsh-slow.out")
		grep -q '^== ' "$d/zsh-slow.out" || got="(the zsh run failed)"
		;;
	esac
	printf '%s\n%s\n' $((SECONDS - start)) "$got" >"$d/hang-$1"
}
hang bash &
hang fish &
hang zsh &
wait
for sh in bash fish zsh; do
	took=$(head -1 "$d/hang-$sh")
	got=$(tail -n +2 "$d/hang-$sh")
	# zsh also starts compinit (a second or two) in that time
	if [ -n "$took" ] && [ -z "$(norm <<<"$got")" ] && [ "$took" -le 8 ]; then
		ok "$sh: a hanging moat is given up after ${took}s"
	else
		bad "$sh: a hanging moat" "${took}s, offered: $got"
	fi
done
finish
