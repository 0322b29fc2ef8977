#!/bin/bash
# Hashes the outputs of a fixed set of jindu commands (the sample, the messy sample, benchmarks/data/county.xlsx
# and county_formatted.xlsx from benchmarks/generate.py --formatted, two batch folders): a redesign must leave
# them identical. usage: PYTHONPATH=REPO/src scripts/output_hashes.sh REPO OUTFILE; then diff two OUTFILEs.
REPO=$1; OUT=$2
T=$(mktemp -d /tmp/hashes.XXXX)
cd "$REPO"
S=sample_ledgers; M=sample_ledgers/messy; C=benchmarks/data/county.xlsx; F=benchmarks/data/county_formatted.xlsx
SC=src/jindu_metrics/metrics/scoring_example.toml
J="python -m jindu_metrics"
run() { name=$1; shift; $J "$@" >"$T/$name.out" 2>"$T/$name.err"; echo $? >"$T/$name.rc"; }
for pair in "s:$S:2018-10" "m:$M:2018-10" "c:$C:2018" "f:$F:2018"; do
  IFS=: read k in per <<<"$pair"
  for fmt in table json csv; do run $k-compute-$fmt compute "$in" --period $per --format $fmt; done
  run $k-compute-xlsx compute "$in" --period $per --format xlsx --output "$T/$k-compute.xlsx"
  run $k-compute-by compute "$in" --period $per --by 所属镇街 --format json
  run $k-compute-base compute "$in" --period $per --baseline 2016 --format json
  run $k-explain explain 刑拘查处比 "$in" --period $per
  run $k-explain2 explain 执行率 "$in" --period $per --format json
  run $k-validate validate "$in"
  run $k-validatej validate "$in" --format json
  run $k-report report "$in" --period $per
  run $k-reportmd report "$in" --period $per --format md
  run $k-reportdocx report "$in" --period $per --format docx --output "$T/$k-report.docx"
  run $k-todo todo "$in" --date ${per:0:4}-10-15 --format json
  run $k-todox todo "$in" --date ${per:0:4}-10-15 --format xlsx --output "$T/$k-todo.xlsx"
done
run s-annot validate $S/乐平镇台帐.xlsx --annotate "$T/s-annot.xlsx"
run m-metrics metrics
for k in c; do
  run $k-batch batch benchmarks/data/county.xlsx --period 2018-10 --out "$T/$k-batchdir" -j 2 ${SC:+--scoring $SC} --format docx
  run $k-batch2 batch sample_ledgers --period 2018-10 --out "$T/$k-batchdir2" -j 2 --baseline 2016
done
cd "$T"; for f in *.out *.err; do sed -i "s#$T#TMP#g" "$f"; done; find . -type f | sort | while read f; do
  case "$f" in *.xlsx|*.docx) echo "$(python3 - "$f" <<'PY'
import sys,zipfile,hashlib
z=zipfile.ZipFile(sys.argv[1]); h=hashlib.sha256()
for n in sorted(z.namelist()): h.update(n.encode()); h.update(z.read(n))
print(h.hexdigest())
PY
) $f (zip-content)";; esac
  echo "$(sha256sum "$f" | cut -c1-64) $f"; done > "$OUT"
echo "$T"
