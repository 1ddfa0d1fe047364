# Builds ipfo_netlink.node (Linux only): `npm run build:native`.
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
    }
  ]
}
