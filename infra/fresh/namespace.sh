#!/usr/bin/env bash
# namespace.sh ROOT TIMEOUT VAR=VALUE... -- COMMAND...: process 1 of the fresh
# root's PID and mount namespaces (started by test-fresh.sh through unshare).
# Mounts what a running Debian has (/proc of this namespace, /sys, /dev, a
# private /dev/shm), then runs in-root.sh inside the root with a login
# environment of its own plus VAR=VALUE..., and COMMAND... as its arguments.
# The mounts are private to this namespace and vanish with it; so do the
# processes, which the kernel kills when this process exits.
set -euo pipefail
R="$1"; TIMEOUT="$2"; shift 2
ENV=()
while [[ $# -gt 0 && "$1" != -- ]]; do ENV+=("$1"); shift; done
shift

mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount --bind /dev "$R/dev"
mount --bind /dev/pts "$R/dev/pts"
mount -t tmpfs -o mode=1777,size=1g shm "$R/dev/shm"

# A clean login environment, as a new user's shell has: nothing of this host's.
rc=0
chroot "$R" /usr/bin/env -i \
  HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  "${ENV[@]}" \
  /bin/bash /root/.in-root.sh "$TIMEOUT" "$@" || rc=$?

# Whatever is still running in here is the run's leftovers; they die with us.
left=()
for p in "$R"/proc/[0-9]*; do
  [[ "${p##*/}" == 1 || "${p##*/}" == "$BASHPID" ]] && continue
  left+=("${p##*/}:$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-80)")
done
((${#left[@]} == 0)) || printf '[namespace] still running at exit (killed with it): %s\n' "${left[@]}"
exit "$rc"
