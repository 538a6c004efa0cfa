# Sourced by the lab checks (check-lab, check-dataplane-lab) from the project root, with
# $lab_test naming the test: skips, loudly, without root or network namespaces; installs the
# commands the labs use; builds the release binary and sets $bin to it, wherever cargo puts
# its target directory.

skip() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
  printf '!!! SKIPPED: %s: %s\n' "$lab_test" "$1"
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
  exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "no \`ip\` (iproute2)"
probe="mpl-probe-$$"
ip netns add "$probe" 2>/dev/null || skip "network namespaces cannot be made here"
ip netns del "$probe"

# The lab computes veth checksums in software with ethtool (docs/daemon.md); the checks read
# captures with tshark and send with ping and traceroute.
scripts/need ethtool:ethtool tshark:tshark ping:iputils-ping traceroute:traceroute

cargo build --release --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/mplamps"
