#!/usr/bin/env bash
# The NativeAOT linker (CppCompilerAndLinker, set by Portable.targets): `zig cc` against an old
# glibc, so the launcher starts on every base image down to glibc 2.17.
#
# Portable.targets adds two arguments of its own: --zig=PATH (the compiler) and
# --zig-target=ARCH-linux-gnu.GLIBC. The rest is ILCompiler's clang command line, minus what
# zig's lld does not take or gets wrong:
#   -fuse-ld=*, -gz=*          zig always links with its own lld; no compressed debug sections
#   --target=*                 replaced by --zig-target
#   -Wl,-pie                   zig makes a PIE from -pie alone
#   -Wl,--discard-all          not supported by zig's driver
#   -Wl,--gc-sections          would drop the __modules section the runtime walks at start-up
#                              (undefined __start___modules); --no-gc-sections keeps it
# and plus -s: the linker strips the symbol table (StripSymbols is off: GNU objcopy cannot
# strip zig's arm64 output, and this needs no objcopy at all).
set -euo pipefail

zig='' target=''
args=()
for arg in "$@"; do
  case "$arg" in
    --zig=*) zig=${arg#--zig=} ;;
    --zig-target=*) target=${arg#--zig-target=} ;;
    --target=* | -fuse-ld=* | -gz=* | -Wl,-pie | -Wl,--discard-all | -Wl,--gc-sections) ;;
    *) args+=("$arg") ;;
  esac
done
if [[ -z "$zig" || -z "$target" ]]; then
  echo "zig-cc.sh: --zig=PATH and --zig-target=TRIPLE are required (set by src/build/Portable.targets)" >&2
  exit 2
fi
# zig's cache of compiled libc stubs and compiler-rt lives beside the compiler, not in ~/.cache/zig.
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$(dirname "$zig")/cache}"
exec "$zig" cc -target "$target" "${args[@]}" -Wl,--no-gc-sections -s
