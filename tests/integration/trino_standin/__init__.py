"""A Trino coordinator stand-in speaking the client REST protocol (see README.md)."""
