#!/usr/bin/env zsh
# zsh_capture.zsh - run real zsh completion on a command line and print
# the candidates, one a line (tests/package/completion.test.sh).
#
#   zsh -f zsh_capture.zsh FPATH_DIR 'moat s' 'moat serve --' ...
#
# prints, for each line, "== LINE" then its candidates, one a line.
#
# Starts an interactive zsh in a pseudo-terminal (zsh/zpty) with FPATH_DIR
# first in $fpath and compinit loaded, wraps the compadd builtin so every
# match offered is printed between markers as "<<MATCH>>", types the line
# and a TAB, and prints what came back. An interactive shell is the only
# way to run the completion system for real: compsys functions only work
# inside a completion widget.
zmodload zsh/zpty || exit 2
fp=$1
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null; setopt nobeep"
# Only the completion system's own directories besides FPATH_DIR: compinit
# reads every file of $fpath, and the full list takes it twice as long.
zpty -w z "fpath=(${(q)fp} \${(M)fpath:#*/Completion(|/Base|/Unix|/Zsh)}); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' menu no; zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' select-prompt ''; LISTMAX=100000"
zpty -w z 'compadd() {
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
	local -a __m
	builtin compadd -O __m "$@"
	(( $#__m )) && print -r -- "<<"${^__m}">>" >/dev/tty
	builtin compadd "$@"
}'
zpty -w z 'print -r -- READY-$((6*7))'
# wait for the prompt to be ready
local out line
while zpty -r -t z line 2>/dev/null || { sleep 0.05; zpty -r z line; }; do
	[[ $line == *READY-42* ]] && break
done
for cmdline in "${@[2,-1]}"; do
	# zle handles the TAB (the whole completion) before it reads the ^U
	zpty -w -n z "$cmdline"$'\t'$'\C-u'
	zpty -w z 'print -r -- DONE-$((6*7))'
	out=
	while zpty -r z line; do
		[[ $line == *DONE-42* ]] && break
		out+=$line
	done
	print -r -- "== $cmdline"
	print -r -- "$out" | grep -o '<<[^>]*>>' | sed 's/^<<//; s/>>$//' | sort -u
done
zpty -d z
