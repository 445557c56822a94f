{
  "targets": [
    {
      "target_name": "smb_aead",
      "sources": ["smb_aead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
