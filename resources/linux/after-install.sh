#!/bin/sh
# deb post-install (dpkg postinst): the node-level `ipfo` command and the agent's systemd unit.
# The unit is installed DISABLED: it starts only once /etc/ipfo/agent.json names the node and an
# administrator runs `systemctl enable --now ipfo-agent` (docs/agent-service.md).
set -e
APP="/opt/IP Failover Console"
EXE=ip-failover-console

# What electron-builder's default post-install does (this script replaces it): the console on the PATH,
# the Chromium sandbox helper's mode, desktop and MIME databases, and the AppArmor profile (Ubuntu 24+).
if command -v update-alternatives >/dev/null 2>&1; then
  if [ -L "/usr/bin/$EXE" ] && [ "$(readlink "/usr/bin/$EXE")" != "/etc/alternatives/$EXE" ]; then rm -f "/usr/bin/$EXE"; fi
  update-alternatives --install "/usr/bin/$EXE" "$EXE" "$APP/$EXE" 100 || ln -sf "$APP/$EXE" "/usr/bin/$EXE"
else
  ln -sf "$APP/$EXE" "/usr/bin/$EXE"
fi
# The SUID sandbox helper only where the kernel offers no user namespaces.
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 "$APP/chrome-sandbox" || true
else
  chmod 4755 "$APP/chrome-sandbox" || true
fi
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database /usr/share/applications || true; fi
if [ -f "$APP/resources/apparmor-profile" ] && apparmor_status --enabled >/dev/null 2>&1; then
  if apparmor_parser --skip-kernel-load --debug "$APP/resources/apparmor-profile" >/dev/null 2>&1; then
    cp -f "$APP/resources/apparmor-profile" "/etc/apparmor.d/$EXE"
    if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
      apparmor_parser --replace --write-cache --skip-read-cache "/etc/apparmor.d/$EXE" || true
    fi
  fi
fi

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
