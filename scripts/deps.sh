# Sourced by scripts/quickstart and scripts/test: installs the Debian
# packages ringfs needs to build and test, only when one is missing, so a
# second run on the same machine does nothing.
RFS_PACKAGES="build-essential autoconf automake libtool pkg-config
	libssl-dev libcurl4-openssl-dev libcunit1-dev libjansson-dev libyajl-dev
	libisal-dev libmicrohttpd-dev libraft-dev libuv1-dev libfuse3-dev fuse3
	curl procps iproute2 clang-format"

rfs_install_deps() {
	local missing=()
	local pkg
	for pkg in $RFS_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "==> installing Debian packages: ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null
}

# rfs_build DIR [configure args...]: configure (once) and build out of tree.
rfs_build() {
	local dir=$1
	shift
	[ -x "$RFS_TOP/configure" ] || (cd "$RFS_TOP" && autoreconf -fi >/dev/null 2>&1) ||
		{ echo "autoreconf failed" >&2; return 1; }
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$RFS_TOP/configure" -q "$@") || return 1
	fi
	make -C "$dir" -j"$(nproc)" -s >/dev/null || make -C "$dir" -s
}
