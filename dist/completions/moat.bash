# moat.bash - bash completion for moat (installed as
# $datadir/bash-completion/completions/moat; or `source` it yourself).
#
# Completes the commands (serve check tools call audit import version
# help), each command's options as its --help lists them, the values moat
# knows (--log-level, --log-format, audit --outcome), files for --config,
# --output, --into and import's SPEC, directories for the DIRs of serve,
# check and tools, and for `moat call TOOL` (and audit --tool) the tool
# names of the config given on the line with --config/-c (else
# $MOAT_CONFIG), from `moat tools --config FILE --names`. That is the only
# command ever run: it lists tools and changes nothing, under `timeout 3`,
# its stderr discarded, and only when a config is named. Uses
# bash-completion's helpers when loaded (--opt=value, _filedir), plain
# compgen otherwise. tests/package/completion.test.sh checks it against
# every option `moat CMD --help` prints.

_moat_levels='debug info notice warning error critical alert emergency'
_moat_outcomes='ok invalid denied limit not_found cancelled timeout io upstream internal out_of_memory input_required no_capability'
_moat_common='-c --config --log-level --log-format -h --help'

# _moat_words: the words before the cursor of the line being completed.
# _moat_config: the config those words name (--config F, --config=F,
# -c F), else $MOAT_CONFIG; quotes around it removed, a leading ~ expanded.
_moat_config() {
	local i w cfg=""
	for ((i = 1; i < ${#_moat_words[@]}; i++)); do
		w=${_moat_words[i]}
		case $w in
		--config | -c)
			cfg=${_moat_words[i + 1]-}
			# plain bash splits --config=F into --config, =, F
			[ "$cfg" = = ] && cfg=${_moat_words[i + 2]-}
			;;
		--config=*) cfg=${w#--config=} ;;
		esac
	done
	[ -n "$cfg" ] || cfg=${MOAT_CONFIG-}
	case $cfg in
	\"*\") cfg=${cfg:1:${#cfg}-2} ;;
	\'*\') cfg=${cfg:1:${#cfg}-2} ;;
	esac
	case $cfg in
	\~/*) cfg=$HOME/${cfg#\~/} ;;
	esac
	printf '%s' "$cfg"
}

# _moat_tool_names: the configured tools, one a line; nothing without a
# readable config, without timeout(1), or when moat fails or takes >3 s.
_moat_tool_names() {
	local cfg
	cfg=$(_moat_config)
	[ -n "$cfg" ] && [ -r "$cfg" ] || return 0
	command -v timeout >/dev/null 2>&1 || return 0
	timeout 3 moat tools --config "$cfg" --names 2>/dev/null </dev/null
}

_moat_files() {
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

_moat_dirs() {
	if declare -F _filedir >/dev/null; then
		_filedir -d
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	fi
}

# _moat_words_of "WORD...": COMPREPLY = the words (our own, fixed) that
# start with $cur.
_moat_words_of() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# _moat_tools_of_config: COMPREPLY = the configured tools that start with
# $cur. Not through compgen -W, which would expand $(...) in a name.
_moat_tools_of_config() {
	local n
	COMPREPLY=()
	while IFS= read -r n; do
		[[ -n $n && $n == "$cur"* ]] && COMPREPLY+=("$n")
	done < <(_moat_tool_names)
}

# _moat_value OPT: complete the value of option OPT; returns 1 when OPT
# takes no value (so the caller completes as usual).
_moat_value() {
	case $1 in
	--config | -c | --output | --into) _moat_files ;;
	--log-level) _moat_words_of "$_moat_levels" ;;
	--log-format) _moat_words_of 'text json' ;;
	--outcome) _moat_words_of "$_moat_outcomes" ;;
	--tool) _moat_tools_of_config ;;
	--http | --name | --base-url | --server-var | --include | --exclude | --tag | \
		--max-tools | --allow-address | -n | --lines | --top | --since | --rule | --principal) ;;
	*) return 1 ;;
	esac
	return 0
}

# _moat_positionals FROM: how many positional words lie between words[FROM]
# and the cursor (option values skipped).
_moat_positionals() {
	local i w n=0
	for ((i = $1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--config | -c | --log-level | --log-format | --http)
			((i++))
			[ "${words[i]-}" = = ] && ((i++)) # plain bash: --opt, =, VALUE
			;;
		--json) [[ ${words[i + 1]-} == [\{\[\'\"]* ]] && ((i + 1 < cword)) && ((i++)) ;;
		-*) ;;
		*) ((n++)) ;;
		esac
	done
	echo "$n"
}

_moat() {
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null; then
		_init_completion -s -n : || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]-}
		# without bash-completion, --opt=VALUE arrives as --opt, =, VALUE
		if [ "$cur" = = ]; then
			cur=""
		elif [ "$prev" = = ]; then
			prev=${COMP_WORDS[COMP_CWORD - 2]-}
		fi
	fi
	local _moat_words=("${words[@]:0:cword}")
	COMPREPLY=()

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			_moat_words_of '-h --help --version'
		else
			_moat_words_of 'serve check tools call audit import version help'
		fi
		return
	fi
	local cmd=${words[1]} opts
	_moat_value "$prev" && return
	$split && return

	case $cmd in
	serve | check) opts="$_moat_common --http" ;;
	tools) opts="$_moat_common --json --names" ;;
	call) opts="$_moat_common --json" ;;
	audit)
		if ((cword == 2)); then
			if [[ $cur == -* ]]; then _moat_words_of '-h --help'; else _moat_words_of 'verify tail summary'; fi
			return
		fi
		case ${words[2]} in
		verify) opts='-c --config --json -h --help' ;;
		tail) opts='-n --lines -f --follow --tool --outcome --rule --principal --since --utc --json -c --config -h --help' ;;
		summary) opts='--since --top --tool --outcome --rule --principal --utc --json -c --config -h --help' ;;
		*) return ;;
		esac
		;;
	import)
		if ((cword == 2)); then
			if [[ $cur == -* ]]; then _moat_words_of '-h --help'; else _moat_words_of openapi; fi
			return
		fi
		opts='--name --base-url --server-var --include --exclude --tag --allow-writes --grouped
			--output-schemas --max-tools --allow-address --list --output --into --force -h --help'
		;;
	*) return ;;
	esac

	if [[ $cur == -* ]]; then
		_moat_words_of "$opts"
		return
	fi
	case $cmd in
	serve | check | tools) _moat_dirs ;;
	call)
		(($(_moat_positionals 2) == 0)) && _moat_tools_of_config
		;;
	audit | import) _moat_files ;;
	esac
}

complete -F _moat moat
