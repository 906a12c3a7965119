# table.sh - formatting helpers the benchmark scripts share for their
# markdown tables (sourced by bench/run.sh and bench/fs.sh).

fmt() { # fmt DECIMALS NUMBER -> formatted, with thousands separators for integers
	if [ -z "$2" ]; then echo "n/a"; return; fi
	if [ "$1" -eq 0 ]; then
		LC_ALL=C awk -v v="$2" 'BEGIN { s = sprintf("%.0f", v); o = "";
			while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
			print s o }'
	else
		LC_ALL=C awk -v v="$2" -v d="$1" 'BEGIN { printf "%.*f\n", d, v }'
	fi
}
ratio() { # ratio NUMERATOR DENOMINATOR
	if [ -z "$1" ] || [ -z "$2" ]; then echo "n/a"; return; fi
	LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a";
		else if (a / b >= 10) printf "%.0f×\n", a / b; else printf "%.2f×\n", a / b }'
}
meets() { # meets VALUE OP LIMIT -> yes / **no** / n/a, or – when there is no target
	if [ -z "$2" ]; then echo "–"; return; fi
	if [ -z "$1" ]; then echo "n/a"; return; fi
	LC_ALL=C awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "yes" : "**no**" }'
}
