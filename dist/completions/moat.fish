# moat.fish - fish completion for moat (installed in
# $datadir/fish/vendor_completions.d/).
#
# Completes the commands (serve check tools call audit import version
# help), each command's options as its --help lists them, the values moat
# knows (--log-level, --log-format, audit --outcome), files for --config,
# --output, --into, import's SPEC and audit's FILEs, directories for the
# DIRs of serve, check and tools, and for `moat call TOOL` (and audit
# --tool) the tool names of the config given on the line with --config/-c
# (else $MOAT_CONFIG), from `moat tools --config FILE --names`. That is the
# only command ever run: it lists tools and changes nothing, under
# `timeout 3`, its stderr discarded, and only when a config is named.
# tests/package/completion.test.sh checks it against every option
# `moat CMD --help` prints.

# __moat_cmd CMD...: the command word (the token after moat) is one of CMD.
function __moat_cmd
    set -l t (commandline -opc)
    test (count $t) -ge 2; and contains -- $t[2] $argv
end

function __moat_needs_cmd
    test (count (commandline -opc)) -eq 1
end

# __moat_sub CMD SUB...: `moat CMD SUB` with SUB one of SUB... (audit, import).
function __moat_sub
    set -l t (commandline -opc)
    test (count $t) -ge 3; and test "$t[2]" = $argv[1]; and contains -- $t[3] $argv[2..-1]
end

# __moat_needs_sub CMD: `moat CMD` and the cursor on the next word.
function __moat_needs_sub
    set -l t (commandline -opc)
    test (count $t) -eq 2; and test "$t[2]" = $argv[1]
end

# __moat_config: the config the line names (--config F, --config=F, -c F),
# else $MOAT_CONFIG; a leading ~ expanded.
function __moat_config
    set -l t (commandline -opc)
    set -l cfg
    for i in (seq 2 (count $t))
        switch $t[$i]
            case --config -c
                set -q t[(math $i + 1)]; and set cfg $t[(math $i + 1)]
            case '--config=*'
                set cfg (string replace -- --config= '' $t[$i])
        end
    end
    if test -z "$cfg"; and set -q MOAT_CONFIG
        set cfg $MOAT_CONFIG
    end
    string replace -r -- '^~/' "$HOME/" $cfg
end

# __moat_tool_names: the configured tools, one a line; nothing without a
# readable config, without timeout(1), or when moat fails or takes >3 s.
function __moat_tool_names
    set -l cfg (__moat_config)
    if test -z "$cfg"; or not test -r "$cfg"; or not command -q timeout
        return 0
    end
    timeout 3 moat tools --config $cfg --names 2>/dev/null </dev/null
end

# __moat_call_needs_tool: `moat call ...` with no TOOL yet before the cursor.
function __moat_call_needs_tool
    set -l t (commandline -opc)
    test (count $t) -ge 2; and test "$t[2]" = call; or return 1
    set -l skip 0
    for w in $t[3..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --config -c --log-level --log-format
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

complete -c moat -f

# commands
complete -c moat -n __moat_needs_cmd -a serve -d 'serve the configured tools over stdio'
complete -c moat -n __moat_needs_cmd -a check -d 'run serve\'s start-up without serving'
complete -c moat -n __moat_needs_cmd -a tools -d 'list the tools as a client sees them'
complete -c moat -n __moat_needs_cmd -a call -d 'run one tool call in-process'
complete -c moat -n __moat_needs_cmd -a audit -d 'verify, tail or summarise the audit trail'
complete -c moat -n __moat_needs_cmd -a import -d 'an OpenAPI description as an http.apis section'
complete -c moat -n __moat_needs_cmd -a version -d 'the version, commit and tool families'
complete -c moat -n __moat_needs_cmd -a help -d 'the commands and common options'
complete -c moat -n __moat_needs_cmd -s h -l help -d 'the commands and common options'
complete -c moat -n __moat_needs_cmd -l version -d 'the version, commit and tool families'

# serve, check, tools, call: the common options
set -l common 'serve check tools call'
complete -c moat -n "__moat_cmd $common" -s c -l config -r -F -d 'JSON config'
complete -c moat -n "__moat_cmd $common" -l log-level -x \
    -a 'debug info notice warning error critical alert emergency' -d 'log level'
complete -c moat -n "__moat_cmd $common" -l log-format -x -a 'text json' -d 'stderr lines as text or JSON'
complete -c moat -n "__moat_cmd $common" -s h -l help -d 'help for this command'
complete -c moat -n '__moat_cmd serve check' -l http -x -d 'serve MCP over HTTP at ADDR:PORT'
complete -c moat -n '__moat_cmd tools' -l json -d 'the tools array as JSON'
complete -c moat -n '__moat_cmd tools' -l names -d 'only the names, one a line'
complete -c moat -n '__moat_cmd call' -l json -d 'the whole result as JSON (or the arguments, with {...})'
complete -c moat -n '__moat_cmd serve check tools' -a '(__fish_complete_directories (commandline -ct) "served read-only")'
complete -c moat -n __moat_call_needs_tool -a '(__moat_tool_names)' -d tool

# audit
complete -c moat -n '__moat_needs_sub audit' -a verify -d 'check the hash chain'
complete -c moat -n '__moat_needs_sub audit' -a tail -d 'the last records'
complete -c moat -n '__moat_needs_sub audit' -a summary -d 'calls, outcomes, refusals, principals'
complete -c moat -n '__moat_needs_sub audit' -s h -l help -d 'help for audit'
set -l all 'audit verify tail summary'
complete -c moat -n "__moat_sub $all" -s c -l config -r -F -d 'the config naming the trail'
complete -c moat -n "__moat_sub $all" -l json -d 'machine-readable output'
complete -c moat -n "__moat_sub $all" -s h -l help -d 'help for audit'
complete -c moat -n "__moat_sub $all" -F -d 'audit file'
set -l read 'audit tail summary'
complete -c moat -n "__moat_sub $read" -l utc -d 'times in UTC'
complete -c moat -n "__moat_sub $read" -l since -x -d 'DURATION (30s 15m 1h 2d 1w) or TIME'
complete -c moat -n "__moat_sub $read" -l tool -x -a '(__moat_tool_names)' -d 'only this tool'
complete -c moat -n "__moat_sub $read" -l outcome -x \
    -a 'ok invalid denied limit not_found cancelled timeout io upstream internal out_of_memory input_required no_capability' \
    -d 'only this outcome'
complete -c moat -n "__moat_sub $read" -l rule -x -d 'only this RULE_ID'
complete -c moat -n "__moat_sub $read" -l principal -x -d 'only this principal'
complete -c moat -n '__moat_sub audit tail' -s n -l lines -x -d 'the last N records'
complete -c moat -n '__moat_sub audit tail' -s f -l follow -d 'keep following'
complete -c moat -n '__moat_sub audit summary' -l top -x -d 'the N most'

# import openapi
complete -c moat -n '__moat_needs_sub import' -a openapi -d 'an OpenAPI 3.x or Swagger 2.0 document'
complete -c moat -n '__moat_needs_sub import' -s h -l help -d 'help for import'
set -l imp '__moat_sub import openapi'
complete -c moat -n $imp -F -d SPEC
complete -c moat -n $imp -l name -x -d "the API's name; tools are NAME_..."
complete -c moat -n $imp -l base-url -x -d "instead of the document's servers[0]"
complete -c moat -n $imp -l server-var -x -d 'a server variable K=V'
complete -c moat -n $imp -l include -x -d 'keep operations matching GLOB or tag:NAME'
complete -c moat -n $imp -l exclude -x -d 'drop operations matching GLOB'
complete -c moat -n $imp -l tag -x -d 'keep operations with this tag'
complete -c moat -n $imp -l allow-writes -d 'POST, PUT, PATCH and DELETE too'
complete -c moat -n $imp -l grouped -d 'a few tools in front of an operations list'
complete -c moat -n $imp -l output-schemas -d 'output schemas from the success responses'
complete -c moat -n $imp -l max-tools -x -d 'refuse above N tools'
complete -c moat -n $imp -l allow-address -x -d 'an address or CIDR the API may reach'
complete -c moat -n $imp -l list -d 'print every operation; writes nothing'
complete -c moat -n $imp -l output -r -F -d 'write the fragment to FILE'
complete -c moat -n $imp -l into -r -F -d 'merge into this config'
complete -c moat -n $imp -l force -d 'let --output overwrite FILE'
complete -c moat -n $imp -s h -l help -d 'help for import'
