"""Authentication: sign-in, JWT sessions, refresh rotation and revocation."""
