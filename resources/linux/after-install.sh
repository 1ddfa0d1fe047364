#!/bin/sh
# deb post-install (dpkg postinst): the node-level `ipfo` command and the agent's systemd unit.
# The unit is installed DISABLED: it starts only once /etc/ipfo/agent.json names the node and an
# administrator runs `systemctl enable --now ipfo-agent` (docs/agent-service.md).
set -e
APP="/opt/IP Failover Console"

# /usr/bin/ipfo runs the app's own runtime (Electron as Node) on the ipfo entry inside app.asar:
# no separate Node.js installation is needed. A file of ours, replaced on every install.
rm -f /usr/bin/ipfo.dpkg-tmp
cat > /usr/bin/ipfo.dpkg-tmp <<'WRAPPER'
#!/bin/sh
# ipfo: the node-level command of IP Failover Console (installed by the ip-failover-console package).
ELECTRON_RUN_AS_NODE=1 exec "/opt/IP Failover Console/ip-failover-console" "/opt/IP Failover Console/resources/app.asar/bin/ipfo" "$@"
WRAPPER
chmod 0755 /usr/bin/ipfo.dpkg-tmp
mv -f /usr/bin/ipfo.dpkg-tmp /usr/bin/ipfo

install -D -m 0644 "$APP/resources/linux/ipfo-agent.service" /lib/systemd/system/ipfo-agent.service

# Only where systemd runs the system (not in a chroot or a container without it). An agent that is
# already running (an upgrade) restarts on the new version; a stopped or disabled one stays so.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
  systemctl try-restart ipfo-agent.service || true
fi
exit 0
