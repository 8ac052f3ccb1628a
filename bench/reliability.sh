#!/usr/bin/env bash
# The reliability suite: every test in the "reliability" category (host lock, crash/resume by SIGKILL at each
# step boundary, hostile input corpus, SSH connection lost mid-command, and in the microVM a failing disk under
# a PV, a kill mid-pvmove and a power cut mid-pvmove)
# plus the SSH host-key refusal, then one table of figures.
# Needs root for the netns lock test and qemu for the microVM; about 8 minutes on 2 shared cores.
# Usage: bench/reliability.sh [Release|Debug]
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1
configuration=${1:-Release}
out=artifacts/reliability
mkdir -p "$out"
figures="$out/figures.tsv"
: >"$figures"
export RUNBOOK_RELIABILITY_FIGURES="$PWD/$figures"

dotnet test tests/Runbooks.Tests -c "$configuration" \
  --filter "TestCategory=reliability|FullyQualifiedName~SshTransportTests.An_unknown_host_key_is_refused" \
  --logger "trx;LogFileName=reliability.trx" --results-directory "$out" 2>&1 | tee "$out/console.log"
status=${PIPESTATUS[0]}

counters=$(grep -o '<Counters [^>]*>' "$out/reliability.trx" 2>/dev/null | head -1)
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }

echo
awk -F'\t' '
  { order[$1] = order[$1] ? order[$1] : ++n; name[n] = $1; inj[$1] += $2; sur[$1] += $3; rej[$1] += $4; lost[$1] += $5 }
  END {
    printf "%-52s %9s %9s %9s %5s\n", "fault / input", "injected", "survived", "rejected", "lost"
    for (i = 1; i <= n; i++) { f = name[i]; printf "%-52s %9d %9d %9d %5d\n", f, inj[f], sur[f], rej[f], lost[f]; ti += inj[f]; ts += sur[f]; tr += rej[f]; tl += lost[f] }
    printf "%-52s %9d %9d %9d %5d\n", "total", ti, ts, tr, tl
  }' "$figures"
echo "tests: $(count passed) passed, $(count failed) failed, $(count notExecuted) skipped"
exit "$status"
