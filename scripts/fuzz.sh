#!/usr/bin/env bash
# Fuzzes Split's parsers of untrusted bytes with libFuzzer (swiftc -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh build                 build the instrumented binary only
#   scripts/fuzz.sh seeds                 regenerate fuzz/corpus/*/ (the committed seeds)
#   scripts/fuzz.sh TARGET [SECONDS]      fuzz one target (default 600 s); TARGET is one of
#                                         wire gguf safetensors tokenizer client-request chat-template, or all
#
# The library's sources are compiled with the harnesses in fuzz/targets as one module (not
# through SwiftPM), so the normal build and CI never see this. Sources that need the HTTP,
# logging, metrics or YAML packages are left out, with the files that need them (the list,
# fuzz/excluded-sources.txt, is found again on each build if the sources change): no parser
# under test depends on them.
# New inputs go to .build-fuzz/corpus/TARGET (the committed seeds stay small); crashes to
# .build-fuzz/crashes/TARGET/, and the summary line (executions, coverage) to
# .build-fuzz/logs/TARGET.summary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/.build-fuzz
binary=$out/split-fuzz
targets=(wire gguf safetensors tokenizer client-request chat-template)

build() {
    mkdir -p "$out/obj"
    local kernels=$root/Sources/CSplitKernels
    cat > "$out/CSplitKernels.modulemap" <<MAP
module CSplitKernels {
    header "$kernels/include/SplitKernels.h"
    export *
}
MAP
    local objects=()
    for c in "$kernels"/*.c; do
        local o=$out/obj/$(basename "$c" .c).o
        clang -O2 -march=native -fsanitize=fuzzer-no-link,address -I "$kernels/include" -c "$c" -o "$o"
        objects+=("$o")
    done
    # swift-log is plain Swift: build it as a module (from SwiftPM's checkout, resolved here on a
    # fresh clone) so the many files that log stay in. Without it every file that logs, and
    # everything that uses those, drops out of the build, the model loaders among them.
    local external='Logging|Hummingbird|Prometheus|Yams|GRDB|NIO[A-Za-z]*|ServiceLifecycle|UnixSignals' logging_flags=()
    local swift_log=.build/checkouts/swift-log/Sources/Logging
    [ -d "$swift_log" ] || swift package resolve || true
    if [ -d "$swift_log" ]; then
        mkdir -p "$out/modules"
        # shellcheck disable=SC2046
        swiftc -module-name Logging -package-name swift_log -parse-as-library -O -emit-module \
            -emit-module-path "$out/modules/Logging.swiftmodule" -emit-library -static -o "$out/modules/libLogging.a" \
            $(find "$swift_log" -name '*.swift')
        external=${external#Logging|}
        logging_flags=(-I "$out/modules" "$out/modules/libLogging.a")
    fi
    local flags=(-module-name Split -parse-as-library
        -Xcc -fmodule-map-file="$out/CSplitKernels.modulemap"
        -Xcc -fmodule-map-file=Sources/COpenSSL/module.modulemap
        -Xcc -fmodule-map-file=Sources/CZMQ/module.modulemap
        "${logging_flags[@]:0:2}")
    # Leave out the files that import packages outside the toolchain, then (repeatedly) the
    # files that fail to type-check without them; the parsers under test need none of these.
    local excluded
    # fuzz/excluded-sources.txt is the list found last time, so the loop usually ends at once.
    excluded=$(grep -rlE "^(@preconcurrency )?import ($external)\b" Sources/Split
        cat fuzz/excluded-sources.txt)
    local sources
    for _ in $(seq 20); do
        sources=$(find Sources/Split -name '*.swift' | sort | grep -vxF "$excluded")
        local failing
        # shellcheck disable=SC2086
        failing=$(swiftc "${flags[@]}" -typecheck $sources fuzz/targets/*.swift 2>&1 \
            | grep -E '^Sources/Split/[^:]+\.swift:[0-9]+:[0-9]+: error:' | grep -oE '^Sources/Split/[^:]+\.swift' | sort -u || true)
        [ -z "$failing" ] && break
        excluded=$(printf '%s\n%s' "$excluded" "$failing")
    done
    echo "$excluded" | sort > "$out/excluded-sources.txt"
    local defines=()
    if grep -qx 'Sources/Split/ClientAPI/ClientRequest.swift' "$out/excluded-sources.txt"; then
        echo "warning: the client API's request parser needs sources left out of this build; the client-request target is not built" >&2
        defines=(-D SPLIT_FUZZ_NO_CLIENT_REQUEST)
    fi
    # shellcheck disable=SC2086
    swiftc "${flags[@]}" "${defines[@]}" -O -g -sanitize=fuzzer,address -j2 \
        $sources fuzz/targets/*.swift "${objects[@]}" "${logging_flags[@]:2}" \
        -lcrypto -lzmq -o "$binary"
    echo "built $binary"
}

run() {
    local target=$1 seconds=$2
    local corpus=$out/corpus/$target crashes=$out/crashes/$target log=$out/logs/$target.log
    mkdir -p "$corpus" "$crashes" "$out/logs"
    echo "fuzzing $target for $seconds s (log: $log)"
    local status=0
    # Leak detection is off: Foundation keeps one-off caches until exit that LeakSanitizer
    # reports; unbounded growth still trips -rss_limit_mb.
    SPLIT_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$binary" "$corpus" "fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -detect_leaks=0 \
        -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov: ?")
    local summary="$target: $runs executions in $seconds s, $cov, corpus $(ls "$corpus" | wc -l) files, exit $status, crashes $(ls "$crashes" | wc -l)"
    echo "$summary" | tee "$out/logs/$target.summary"
    return $status
}

command=${1:-all}
seconds=${2:-600}
case "$command" in
    build) build ;;
    seeds)
        [ -x "$binary" ] || build
        rm -rf fuzz/corpus
        SPLIT_FUZZ_WRITE_SEEDS=fuzz/corpus ASAN_OPTIONS=detect_leaks=0 "$binary"
        du -sh fuzz/corpus/* ;;
    all)
        [ -x "$binary" ] || build
        failed=0
        for target in "${targets[@]}"; do run "$target" "$seconds" || failed=1; done
        exit $failed ;;
    *)
        [[ " ${targets[*]} " == *" $command "* ]] || { echo "unknown target $command; one of: ${targets[*]}" >&2; exit 2; }
        [ -x "$binary" ] || build
        run "$command" "$seconds" ;;
esac
