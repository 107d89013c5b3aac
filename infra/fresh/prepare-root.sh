#!/usr/bin/env bash
# prepare-root.sh ROOT MIRROR SUITE: turn a debootstrapped folder into what a
# freshly installed Debian machine looks like to its user, adding no software:
#   - apt sources as the installer writes them (main, -updates, -security), and
#     package lists as after the installer's own `apt-get update`;
#   - /etc/hosts, and the host's resolv.conf (the host's network);
#   - the host's extra CA certificates, if its bundle has any that Debian's
#     lacks (a TLS-inspecting egress, as in this project's sandbox): a user
#     behind it has them too. Marked in usr/local/share/ca-certificates/.host-extra;
#   - usr/sbin/policy-rc.d denying service starts, as in every Debian chroot: there
#     is no init system here, so packages must not start daemons (PostgreSQL's
#     postinst would start Debian's cluster on the host's network).
set -euo pipefail
R="${1:?usage: prepare-root.sh ROOT MIRROR SUITE}"; MIRROR="$2"; SUITE="$3"
[[ -x "$R/usr/bin/apt-get" ]] || { echo "not a Debian root: $R" >&2; exit 1; }

SECURITY="${MIRROR%/debian}/debian-security"
cat >"$R/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF

cp -L /etc/resolv.conf "$R/etc/resolv.conf"
cat >"$R/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1       localhost ip6-localhost ip6-loopback
EOF
echo fresh >"$R/etc/hostname"

cat >"$R/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# No init system in this root: packages may not start services (exit 101 = denied).
exit 101
EOF
chmod 755 "$R/usr/sbin/policy-rc.d"

# split_pems FILE DIR: one file per certificate, named by its content's hash.
split_pems() {
  mkdir -p "$2"
  awk -v d="$2" '
    /-----BEGIN CERTIFICATE-----/ { pem = ""; on = 1 }
    on { pem = pem $0 "\n" }
    /-----END CERTIFICATE-----/ { on = 0; n++; f = d "/" n ".pem"; printf "%s", pem > f; close(f) }
  ' "$1"
  local f
  for f in "$2"/*.pem; do [[ -e "$f" ]] && mv "$f" "$2/$(sha256sum "$f" | cut -c1-16).pem"; done
  return 0
}
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
split_pems /etc/ssl/certs/ca-certificates.crt "$tmp/host"
split_pems "$R/etc/ssl/certs/ca-certificates.crt" "$tmp/root"
extra=0
for f in "$tmp"/host/*.pem; do
  [[ -e "$tmp/root/$(basename "$f")" ]] && continue
  cp "$f" "$R/usr/local/share/ca-certificates/host-$(basename "$f" .pem).crt"
  extra=$((extra + 1))
done
if ((extra > 0)); then
  echo "$extra" >"$R/usr/local/share/ca-certificates/.host-extra"
  chroot "$R" update-ca-certificates
  echo "trusting $extra extra CA certificate(s) of the host"
fi

chroot "$R" apt-get update -q
echo "installed packages: $(chroot "$R" dpkg-query -W -f '${Package}\n' | wc -l)"
