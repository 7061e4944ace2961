#!/usr/bin/env bash
# Checks that every relative link in README.md, BENCHMARKS.md and docs/**/*.md points at a file
# or folder in this repository (the part before any #anchor; anchors themselves are not checked).
# Inline links and images `[text](target)`, reference definitions `[name]: target` and HTML
# `href="…"` / `src="…"` are read; links inside code spans and fenced code blocks are not links.
# No network: http(s), mailto and other scheme links are skipped. Exits 1 listing the broken ones.
# Usage: scripts/check-links.sh [FILE.md ...]   (default: the set above)
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os, re, sys, glob

files = sys.argv[1:] or (["README.md", "BENCHMARKS.md"]
                         + sorted(glob.glob("docs/**/*.md", recursive=True)))
inline = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
reference = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
html = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
scheme = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

broken, checked = [], 0
for path in files:
    if not os.path.isfile(path):
        broken.append(f"{path}: file to check does not exist")
        continue
    base = os.path.dirname(path)
    fence = None
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0] * len(marker.group(1))
            elif stripped.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        text = re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)  # drop code spans
        targets = [m.group(1) for m in inline.finditer(text)]
        targets += [m.group(1) for m in html.finditer(text)]
        ref = reference.match(text)
        if ref:
            targets.append(ref.group(1))
        for target in targets:
            if scheme.match(target) or target.startswith("#"):
                continue
            file_part = target.split("#", 1)[0].split("?", 1)[0]
            if not file_part:
                continue
            checked += 1
            resolved = os.path.normpath(os.path.join(base, file_part))
            if resolved.startswith("..") or not os.path.exists(resolved):
                broken.append(f"{path}:{number}: {target} -> {resolved} (not in the repository)")

if broken:
    print(f"check-links: {len(broken)} broken link(s) of {checked}:", file=sys.stderr)
    for entry in broken:
        print("  " + entry, file=sys.stderr)
    sys.exit(1)
print(f"check-links: {checked} relative links in {len(files)} files, all resolve")
PY
