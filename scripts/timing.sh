#!/usr/bin/env bash
# Whole-process timing of `tricho analyze` against the straightforward Python pipeline
# (scripts/python_pipeline/pipeline.py: onnxruntime + numpy + scipy + scikit-image, same
# model, same steps), on the same rendered folder in the same run.
#
# Usage: bash scripts/timing.sh              # 40 phantoms, 1280x960 at 5 um/px
#        N=200 bash scripts/timing.sh        # the memory run (peak must not grow with N)
# Environment: N (40), SEED (940000), SIZE (1280x960), UM_PER_PX (5), JOBS (CPU cores; the
#   Python pool size, tricho uses one worker per core by default), WORK (a fresh temp folder),
#   SKIP_BUILD=1 to use the existing target/release/tricho, SKIP_PYTHON=1 to time tricho only
#   (the 200-image memory run), PYTHON (python3.11) for the venv.
#
# Builds nothing but `cargo build --release`; installs the pinned ONNX Runtime (.ort/) and a
# git-ignored .venv-compare/ with scripts/python_pipeline/requirements.txt when missing.
#
# Memory is reported two ways, because GNU time's %M is the peak RSS of the LARGEST single
# process: right for tricho (one process, worker threads), an undercount for the Python
# pool (one process per worker). "tree PSS" sums the proportional set size (shared pages
# split between sharers, so forked copies are not double-counted) of the command and all
# its descendants, sampled every 0.1 s; its peak can miss a spike shorter than that.
# Without /usr/bin/time, the largest-process figure comes from Python's
# resource.getrusage(RUSAGE_CHILDREN).ru_maxrss, which is the same quantity.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-40}"; SEED="${SEED:-940000}"; SIZE="${SIZE:-1280x960}"; UM_PER_PX="${UM_PER_PX:-5}"
JOBS="${JOBS:-$(nproc)}"; PYTHON="${PYTHON:-python3.11}"
WORK="${WORK:-$(mktemp -d /tmp/tricho-timing.XXXXXX)}"
VENV=.venv-compare
TRICHO=target/release/tricho

bash scripts/install-onnxruntime.sh
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r scripts/python_pipeline/requirements.txt
fi

# Phantoms with truth; only the photos go into the analysed folder (both tools walk folders
# for every .png, and the renderer's .mask.png / .labels.png are not photos).
"$TRICHO" synth --out "$WORK/synth" --count "$N" --seed "$SEED" --size "$SIZE" --um-per-px "$UM_PER_PX"
mkdir -p "$WORK/images"
find "$WORK/synth" -maxdepth 1 -name '*.png' ! -name '*.mask.png' ! -name '*.labels.png' \
    -exec mv -t "$WORK/images" {} +
IMAGES=$(find "$WORK/images" -name '*.png' | wc -l)

# measure NAME CMD...: runs CMD, writes "wall_s max_rss_kb tree_pss_peak_kb exit" to $WORK/NAME.measure.
measure() {
    local name="$1"; shift
    "$VENV/bin/python" - "$WORK/$name.measure" "$@" <<'PY'
import os, resource, shutil, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
gnu_time = shutil.which("time", path="/usr/bin")
time_file = out + ".gnutime"
if gnu_time:
    cmd = [gnu_time, "-f", "%e %M", "-o", time_file] + cmd
def tree(root):
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids
def pss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
started = time.perf_counter()
proc = subprocess.Popen(cmd)
peak = 0
while proc.poll() is None:
    peak = max(peak, sum(pss_kb(p) for p in tree(proc.pid)))
    time.sleep(0.1)
wall = time.perf_counter() - started
max_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if gnu_time and os.path.exists(time_file):
    wall_s, max_rss = open(time_file).read().split()[-2:]
    wall = float(wall_s)
open(out, "w").write(f"{wall} {max_rss} {peak} {proc.returncode}\n")
PY
}

if "$TRICHO" analyze --help >/dev/null 2>&1; then
    measure tricho "$TRICHO" analyze "$WORK/images" --um-per-px "$UM_PER_PX" --out "$WORK/out-tricho" || true
else
    echo "warning: $TRICHO has no \`analyze\` subcommand; timing the Python pipeline only" >&2
fi
if [[ "${SKIP_PYTHON:-0}" != 1 ]]; then
    measure python "$VENV/bin/python" scripts/python_pipeline/pipeline.py "$WORK/images" \
        --um-per-px "$UM_PER_PX" --jobs "$JOBS" --threads 1 --out "$WORK/out-python" || true
fi

row() {  # row NAME LABEL: one Markdown table row from $WORK/NAME.measure
    [[ -f "$WORK/$1.measure" ]] || { echo "| $2 | $IMAGES | n/a | n/a | n/a | n/a | n/a |"; return; }
    read -r wall rss pss rc < "$WORK/$1.measure"
    awk -v l="$2" -v n="$IMAGES" -v w="$wall" -v r="$rss" -v p="$pss" -v c="$rc" 'BEGIN {
        printf "| %s | %d | %.1f | %.2f | %.0f | %.0f | %d |\n", l, n, w, n / w, r / 1024, p / 1024, c }'
}
echo
echo "$IMAGES images ${SIZE} at ${UM_PER_PX} um/px (seed $SEED), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); work folder $WORK"
echo
echo "| pipeline | images | wall s | images/s | peak RSS MB (largest process) | peak PSS MB (process tree) | exit |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row tricho "tricho analyze"
row python "Python (onnxruntime+numpy+scikit-image, --jobs $JOBS)"
if [[ -f "$WORK/tricho.measure" && -f "$WORK/python.measure" ]]; then
    read -r tw _ tp _ < "$WORK/tricho.measure"
    read -r pw _ pp _ < "$WORK/python.measure"
    awk -v tw="$tw" -v pw="$pw" -v tp="$tp" -v pp="$pp" 'BEGIN {
        printf "\nratio: tricho is %.2fx the Python pipeline'"'"'s images/s; peak tree PSS %.2fx\n", pw / tw, tp / pp }'
fi

if [[ -d "$WORK/out-tricho" ]]; then
    echo
    echo "tricho mean time per image and stage (ms per image as each worker saw it, all workers running; from the reports' timings_ms):"
    "$VENV/bin/python" - "$WORK/out-tricho" <<'PY'
import glob, json, sys
rows = [json.load(open(f))["timings_ms"] for f in glob.glob(sys.argv[1] + "/*.json")]
if rows:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    print("| " + " | ".join(f"{sum(r[k] for r in rows) / len(rows):.0f}" for k in keys) + " |")
PY
fi
