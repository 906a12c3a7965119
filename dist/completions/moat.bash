# bash completion for moat (skeleton)
