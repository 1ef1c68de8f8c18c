"""Daily check-ins logged by patients."""
