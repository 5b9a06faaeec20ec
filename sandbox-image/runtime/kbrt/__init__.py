"""Domaeka sandbox runtime (runs inside the sandbox container; stdlib only)."""
