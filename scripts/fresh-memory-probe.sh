#!/usr/bin/env bash
# How dear fresh memory is on this machine (docs/BENCHMARKS.md, "2026-12-02"): writing 2 GB into
# a new file against overwriting it, and touching 2 GB of new anonymous memory twice. On a VM
# whose host reclaims freed memory, the first of each pair is many times slower. Needs python3;
# writes a scratch file under DIR (default /var/tmp).
set -euo pipefail
dir=${1:-/var/tmp}
file="$dir/evac-fresh-memory-probe.bin"
trap 'rm -f "$file"' EXIT
for i in 1 2 3; do
  rm -f "$file"; sync; sleep 4   # freed memory is handed back to the host after a few seconds
  /usr/bin/time -f "new file, 2 GB: %e s (%S s system)" dd if=/dev/zero of="$file" bs=1M count=2000 status=none
  /usr/bin/time -f "overwrite, 2 GB: %e s (%S s system)" dd if=/dev/zero of="$file" bs=1M count=2000 conv=notrunc status=none
done
python3 - <<'PY'
import mmap, time
for _ in range(2):
    m = mmap.mmap(-1, 2000 << 20)
    started = time.time()
    for offset in range(0, 2000 << 20, 4096):
        m[offset] = 1
    first = time.time() - started
    started = time.time()
    for offset in range(0, 2000 << 20, 4096):
        m[offset] = 2
    print(f"anonymous memory, 2 GB: first touch {first:.2f} s, second {time.time() - started:.2f} s")
    m.close()
    time.sleep(4)
PY
