#!/bin/sh
# deb pre-removal (dpkg prerm): stop and disable the agent before its files go away. SIGTERM makes
# the agent hand its addresses to another node first (TimeoutStopSec=30 in the unit).
# Not on upgrade: after-install.sh restarts a running agent on the new version instead.
set -e
case "$1" in
  remove|deconfigure)
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now ipfo-agent.service >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
