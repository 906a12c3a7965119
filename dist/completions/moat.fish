# fish completion for moat (skeleton)
