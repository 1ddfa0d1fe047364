# Builds ipfo_netlink.node and ipfo_capture.node (Linux only): `npm run build:native`.
# N-API is ABI-stable, so this one binary serves both Node and Electron.
{
  "targets": [
    {
      "target_name": "ipfo_netlink",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["netlink.c"],
          "defines": ["NAPI_VERSION=8"],
          "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
        }, {
          "type": "none"
        }]
      ]
    },
    {
      # The ARP watch's capture (libpcap with a small snaplen, frames in batches) and the kernel
      # counters of a capture socket, which `cap` does not expose. See capture.c.
      "target_name": "ipfo_capture",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["capture.c", "fold.c"],
          "libraries": ["-lpcap"],
          "defines": ["NAPI_VERSION=8"],
          "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
