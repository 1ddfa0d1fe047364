#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (run as root), then builds it.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# libpcap-dev: headers for the `cap` addon; iproute2: `ip netns`, veth and bridges for the lab;
# build-essential + python3: node-gyp builds `cap` and our netlink addon; etcd-server: the cluster store
# (started by the tests themselves); etcd-client: etcdctl, which the tests use to check etcd's health;
# chromium: the browser the end-to-end tests drive;
# keepalived + arpwatch: the peers the benchmarks compare against; ieee-data: the OUI registry;
# systemd: systemd-analyze verifies the agent's unit that `ipfo agent install` writes;
# gcc: the lab compiles its C traffic tools with `cc` (named although build-essential pulls it in, because
# test/unit/external-programs.test.ts ties every program to a package named here); strace: the registrar's
# one-syscall batch test (skipped without it); openssl: the API's TLS unit test makes its certificates;
# prometheus: the metrics lab scrapes the agents with a real Prometheus, and promtool checks the shipped alert
# rules; rsyslog: the hooks lab delivers events to a real syslog daemon (both started by the tests themselves).
packages=(libpcap-dev iproute2 build-essential gcc python3 etcd-server etcd-client chromium keepalived arpwatch ieee-data procps systemd strace openssl prometheus rsyslog)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing system packages (${missing[*]}); run this script as root to install them" >&2
    exit 4
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Daemons installed here (etcd, prometheus, rsyslog, keepalived) are started by the tests with their own
  # configuration; where no systemd runs, their init scripts would otherwise start them on install.
  policy=/usr/sbin/policy-rc.d ours=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ $ours ]]; then rm -f "$policy"; trap - EXIT; fi
fi
# Debian starts etcd as a service on install where systemd runs; the tests start their own etcd.

npm ci --no-audit --no-fund
npm run build
echo "setup: done"
