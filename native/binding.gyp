{
  "targets": [
    {
      "target_name": "smb_aead",
      "sources": ["smb_aead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "smb_capture",
      "sources": ["smb_capture.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "smb_spawn",
      "sources": ["smb_spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
