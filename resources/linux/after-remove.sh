#!/bin/sh
# deb post-removal (dpkg postrm): remove what after-install.sh wrote. `remove` keeps the agent's
# configuration (/etc/ipfo) and state (/var/lib/ipfo: file store, API token); `purge` removes them.
set -e
case "$1" in
  remove|purge)
    rm -f /lib/systemd/system/ipfo-agent.service
    # Only our wrapper: never a /usr/bin/ipfo someone else put there.
    if [ -f /usr/bin/ipfo ] && grep -q 'installed by the ip-failover-console package' /usr/bin/ipfo; then
      rm -f /usr/bin/ipfo
    fi
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl daemon-reload || true
    fi
    ;;
esac
if [ "$1" = purge ]; then
  rm -f /etc/ipfo/agent.json
  rmdir /etc/ipfo 2>/dev/null || true
  rm -rf /var/lib/ipfo /run/ipfo
fi
exit 0
