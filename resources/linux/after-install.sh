#!/bin/sh
# deb post-install: expose the node-level command and the agent unit; the service is not enabled by default.
set -e
ln -sf "/opt/IP Failover Console/resources/app.asar.unpacked/bin/ipfo" /usr/bin/ipfo || true
install -m 0644 "/opt/IP Failover Console/resources/linux/ipfo-agent.service" /lib/systemd/system/ipfo-agent.service || true
